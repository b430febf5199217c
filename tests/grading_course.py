"""A tiny synthetic course (one pure-Python lab, no moto) for testing the grading machinery fast.

Built in a tmp folder so the tests of labgen, the runner and the gradebook do not depend on the
real lessons (or on the Lambda runtime) and can break their inputs on purpose.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat

from localcloud.grading import labgen

LAB = "90-standin"

CHECKS = '''
from localcloud.grading import Exercises

EXERCISES = Exercises("90-standin")


@EXERCISES.check(1, "add two numbers", hint="Use the + operator.")
def check_add(ns):
    got = ns.add(2, 3)
    assert got == 5, f"add(2, 3) should return 5, got {got!r}"


@EXERCISES.check(2, "shout", hint="str.upper() and an exclamation mark.")
def check_shout(ns):
    got = ns.shout("hi")
    assert got == "HI!", f"shout('hi') should return 'HI!', got {got!r}"


@EXERCISES.check(3, "constant", hint="A top-level assignment.")
def check_answer(ns):
    assert ns.ANSWER == 42, f"ANSWER should be 42, got {ns.ANSWER!r}"


EXERCISES.known_wrong(1, "# Exercise 1\\ndef add(a, b):\\n    return a - b\\n", reason="should return 5")
EXERCISES.known_wrong(2, "# Exercise 2\\ndef shout(text):\\n    return text.upper()\\n", reason="should return 'HI!'")
EXERCISES.known_wrong(3, "# Exercise 3\\nANSWER = 41\\n", reason="ANSWER should be 42")
'''

SETUP = "# Setup\nfrom localcloud.grading import Lab, NotAttempted\nlab = Lab('90-standin')"
EXERCISE_CELLS = {
    1: "# Exercise 1\ndef add(a, b):\n    ### BEGIN SOLUTION\n    return a + b\n    ### END SOLUTION",
    2: "# Exercise 2\ndef shout(text):\n    ### BEGIN SOLUTION\n    return text.upper() + '!'\n    ### END SOLUTION",
    3: "# Exercise 3\n### BEGIN SOLUTION\nANSWER = 42\n### END SOLUTION\n### BEGIN HIDDEN\nassert ANSWER == 42\n### END HIDDEN",
}


def solution_notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    cells = [nbformat.v4.new_markdown_cell("# Stand-in lab\n\n**Time:** 5 min"), nbformat.v4.new_code_cell(SETUP)]
    for number, source in EXERCISE_CELLS.items():
        cells.append(nbformat.v4.new_code_cell(source))
        cells.append(nbformat.v4.new_code_cell(f"lab.check({number})"))
    # a demo cell graders must never run
    cells.append(nbformat.v4.new_code_cell("raise RuntimeError('demo cells must not run when grading')"))
    for i, cell in enumerate(cells):
        cell.id = f"c{i}"
    nb.cells = cells
    return nb


def build(root: Path) -> Path:
    """Write the course to `root` (solutions/, labs/ generated, tests/labs/) and return `root`."""
    for folder in ("solutions", "labs", "notebooks", "tests/labs"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    nbformat.write(solution_notebook(), str(root / "solutions" / f"{LAB}.ipynb"))
    (root / "tests" / "labs" / "test_90_standin.py").write_text(CHECKS, encoding="utf-8")
    labgen.write_labs(root)
    return root


def student(root: Path, name: str, *, source: str = "solutions", cells: dict[int, str] | None = None) -> Path:
    """A student's folder holding a copy of the lab (from solutions/ or labs/), some cells replaced."""
    folder = root / "submissions" / name / "labs"
    folder.mkdir(parents=True)
    target = folder / f"{LAB}.ipynb"
    shutil.copy(root / source / f"{LAB}.ipynb", target)
    if cells:
        nb = nbformat.read(str(target), as_version=4)
        for cell in nb.cells:
            first = cell.source.splitlines()[0] if cell.source else ""
            for number, code in cells.items():
                if first == f"# Exercise {number}":
                    cell.source = f"# Exercise {number}\n{code}"
        nbformat.write(nb, str(target))
    return folder.parent
