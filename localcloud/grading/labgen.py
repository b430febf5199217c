"""Generate ``labs/`` from ``solutions/`` (nbgrader style): the solutions are the single source.

Each ``### BEGIN SOLUTION`` … ``### END SOLUTION`` region in a code cell becomes, at the same
indentation, a ``# YOUR CODE HERE`` line and ``raise NotAttempted("exercise N")`` — valid Python
that makes the unattempted exercise say so. In markdown cells the region becomes "*Your answer
here.*". ``### BEGIN HIDDEN`` … ``### END HIDDEN`` regions vanish from the lab. Outputs, execution
counts and editor metadata are dropped, and the JSON is written canonically, so the same solution
always gives byte-identical labs and ``--check`` can tell that ``labs/`` is stale.

    python -m localcloud.grading.labgen            # (re)write labs/
    python -m localcloud.grading.labgen --check    # exit 1 naming each stale lab
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

from .notebooks import exercise_number, find_root, lab_names, source_of

BEGIN = re.compile(r"^(\s*)### BEGIN (SOLUTION|HIDDEN)\s*$")
END = re.compile(r"^\s*### END (SOLUTION|HIDDEN)\s*$")
KEEP_CELL_METADATA = ("tags",)


class RegionError(ValueError):
    """Unbalanced or nested markers: refusing to guess what the student should see."""


def strip_regions(source: str, cell_type: str, label: str, exercise: int | None = None) -> str:
    """Replace solution regions with the placeholder and drop hidden ones."""
    out: list[str] = []
    open_kind: str | None = None
    for lineno, line in enumerate(source.splitlines(keepends=True), 1):
        begin, end = BEGIN.match(line.rstrip("\n")), END.match(line.rstrip("\n"))
        if begin:
            if open_kind:
                raise RegionError(f"{label}, line {lineno}: BEGIN {begin.group(2)} inside an open {open_kind} region")
            open_kind = begin.group(2)
            if open_kind == "SOLUTION":
                out.append(_placeholder(begin.group(1), cell_type, exercise))
        elif end:
            if open_kind != end.group(1):
                raise RegionError(f"{label}, line {lineno}: END {end.group(1)} without a matching BEGIN")
            open_kind = None
        elif open_kind is None:
            out.append(line)
    if open_kind:
        raise RegionError(f"{label}: BEGIN {open_kind} is never closed")
    return "".join(out).rstrip("\n")


def _placeholder(indent: str, cell_type: str, exercise: int | None) -> str:
    if cell_type == "markdown":
        return f"{indent}*Your answer here.*\n"
    what = f"exercise {exercise}" if exercise is not None else "this exercise"
    return f'{indent}# YOUR CODE HERE\n{indent}raise NotAttempted("{what}")\n'


def generate(solution: Path) -> str:
    """The lab notebook (as the exact text to store) generated from one solution notebook."""
    nb = nbformat.read(str(solution), as_version=4)
    lab = nbformat.v4.new_notebook()
    lab.metadata = {
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
        "localcloud": {"generated_from": f"solutions/{solution.name}", "do_not_edit": "run `make labs`"},
    }
    for index, cell in enumerate(nb.cells):
        number = exercise_number(cell)
        label = f"{solution.name} cell {index + 1}"
        source = strip_regions(source_of(cell), cell.cell_type, label, number)
        metadata = {k: cell.metadata[k] for k in KEEP_CELL_METADATA if k in cell.get("metadata", {})}
        if cell.cell_type == "code":
            new = nbformat.v4.new_code_cell(source, metadata=metadata)
        elif cell.cell_type == "markdown":
            new = nbformat.v4.new_markdown_cell(source, metadata=metadata)
        else:
            new = nbformat.v4.new_raw_cell(source, metadata=metadata)
        new.id = cell.get("id") or f"cell-{index + 1}"
        lab.cells.append(new)
    nbformat.validate(lab)
    return nbformat.writes(lab) + "\n"


def stale_labs(root: Path) -> list[str]:
    """Relative paths of labs that are missing, out of date, or have no solution any more."""
    stale = []
    for name in lab_names(root, "solutions"):
        target = root / "labs" / f"{name}.ipynb"
        if not target.exists() or target.read_text(encoding="utf-8") != generate(root / "solutions" / f"{name}.ipynb"):
            stale.append(f"labs/{name}.ipynb")
    orphans = set(lab_names(root, "labs")) - set(lab_names(root, "solutions"))
    stale += [f"labs/{name}.ipynb (no solutions/{name}.ipynb)" for name in sorted(orphans)]
    return stale


def write_labs(root: Path) -> list[Path]:
    (root / "labs").mkdir(exist_ok=True)
    written = []
    for name in lab_names(root, "solutions"):
        target = root / "labs" / f"{name}.ipynb"
        text = generate(root / "solutions" / f"{name}.ipynb")
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
            written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localcloud.grading.labgen", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if any lab is stale")
    parser.add_argument("--root", type=Path, default=None, help="course checkout (default: found from cwd)")
    args = parser.parse_args(argv)
    root = find_root(args.root)
    try:
        if args.check:
            stale = stale_labs(root)
            for path in stale:
                print(f"stale: {path} — run `make labs`", file=sys.stderr)
            if not stale:
                print(f"labs/ is up to date ({len(lab_names(root, 'solutions'))} labs)")
            return 1 if stale else 0
        written = write_labs(root)
    except RegionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path.relative_to(root)}")
    print(f"labs/ is up to date ({len(lab_names(root, 'solutions'))} labs, {len(written)} rewritten)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
