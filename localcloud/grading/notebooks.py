"""Where things are: the repository's course folders and the parts of a lab notebook.

A lab notebook has three kinds of code cells, told apart by markers a student can see:

* **setup** cells — first line ``# Setup`` (or the cell tag ``setup``): imports and the ``Cloud``;
* **exercise** cells — first line ``# Exercise N`` (or the tag ``exercise-N``): what is graded;
* everything else (``lab.check(N)`` calls, demos, try-it-out cells) — never run by the graders.

Graders run only setup + one exercise, so a lesson's slow demo or a student's broken scratch cell
cannot change a grade.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LAB_NAME = re.compile(r"^(\d{2})-([a-z0-9]+(?:-[a-z0-9]+)*)$")
EXERCISE_LINE = re.compile(r"^#\s*Exercise\s+(\d+)\b", re.IGNORECASE)
SETUP_LINE = re.compile(r"^#\s*Setup\b", re.IGNORECASE)
FOLDERS = ("notebooks", "solutions", "labs")
ROOT_VARIABLE = "LOCALCLOUD_COURSE_ROOT"


def find_root(start: Path | str | None = None) -> Path:
    """The repository root: walk up from `start` (default: cwd) to a folder holding ``tests/labs``.

    ``$LOCALCLOUD_COURSE_ROOT`` wins when set (the gradebook runs students' code in a temp cwd).
    Falls back to the checkout this package lives in, so ``lab = Lab(...)`` works from any folder
    of the course, including ``labs/`` where Jupyter starts a student's kernel.
    """
    if start is None and os.environ.get(ROOT_VARIABLE):
        return Path(os.environ[ROOT_VARIABLE]).resolve()
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "tests" / "labs").is_dir():
            return folder
    package_root = Path(__file__).resolve().parents[2]
    if (package_root / "tests" / "labs").is_dir():
        return package_root
    raise FileNotFoundError(f"no course checkout (a folder with tests/labs) above {here}")


def test_module_path(root: Path, lab: str) -> Path:
    """``00-getting-started`` → ``tests/labs/test_00_getting_started.py``."""
    return root / "tests" / "labs" / f"test_{lab.replace('-', '_')}.py"


def lab_names(root: Path, folder: str = "solutions") -> list[str]:
    """The ``NN-name`` stems of a course folder's notebooks, in course order."""
    return sorted(p.stem for p in (root / folder).glob("*.ipynb") if LAB_NAME.match(p.stem))


def read(path: Path | str) -> dict[str, Any]:
    """A notebook as plain JSON — no nbformat import, which costs 1.5 s in every grading process."""
    with open(path, encoding="utf-8") as handle:
        nb = json.load(handle)
    if nb.get("nbformat") != 4:
        raise ValueError(f"{path}: only nbformat 4 notebooks are supported")
    return nb


def source_of(cell: dict[str, Any]) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _first_line(source: str) -> str:
    for line in source.splitlines():
        if line.strip():
            return line.strip()
    return ""


def exercise_number(cell: dict[str, Any]) -> int | None:
    """The exercise a code cell belongs to, from its first line or an ``exercise-N`` tag."""
    if cell.get("cell_type") != "code":
        return None
    match = EXERCISE_LINE.match(_first_line(source_of(cell)))
    if match:
        return int(match.group(1))
    for tag in cell.get("metadata", {}).get("tags", []):
        if tag.startswith("exercise-") and tag[len("exercise-") :].isdigit():
            return int(tag[len("exercise-") :])
    return None


def is_setup(cell: dict[str, Any]) -> bool:
    if cell.get("cell_type") != "code":
        return False
    return bool(SETUP_LINE.match(_first_line(source_of(cell)))) or "setup" in cell.get("metadata", {}).get("tags", [])


@dataclass
class LabCode:
    """The graded code of one lab notebook: setup cells and each exercise's cells, in order."""

    path: Path
    setup: list[str] = field(default_factory=list)
    exercises: dict[int, list[str]] = field(default_factory=dict)

    def exercise(self, number: int) -> str:
        return "\n\n".join(self.exercises.get(number, []))


def lab_code(path: Path | str) -> LabCode:
    """Split a lab (or solution, or student's) notebook into setup and exercise code."""
    nb = read(path)
    code = LabCode(Path(path))
    for cell in nb["cells"]:
        number = exercise_number(cell)
        if number is not None:
            code.exercises.setdefault(number, []).append(source_of(cell))
        elif is_setup(cell):
            code.setup.append(source_of(cell))
    return code
