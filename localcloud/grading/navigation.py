"""Navigation between notebooks and the README's course map, generated from the folders.

Each notebook gets a markdown cell tagged ``navigation`` at its top and bottom (Python Data Science
Handbook style): previous / next in its folder, the course map, and the lesson ↔ lab links. The
README's course map sits between ``<!-- course-map:start -->`` and ``<!-- course-map:end -->``.
Both are derived from the files, so adding a lesson needs no hand-edited links.

    python -m localcloud.grading.navigation            # refresh navigation cells (then `make labs`)
    python -m localcloud.grading.navigation --check    # exit 1 naming notebooks whose links are stale
    python -m localcloud.grading.navigation --readme   # rewrite the course map block in README.md
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from .notebooks import find_root, lab_names, read, source_of

TAG = "navigation"
START, END = "<!-- course-map:start -->", "<!-- course-map:end -->"
TIME = re.compile(r"\*\*Time:\*\*\s*([^·\n*]+?)\s*(?:·|$)", re.MULTILINE)
HEADING = re.compile(r"^#\s+(.+)$", re.MULTILINE)


def _first_markdown(path: Path) -> str:
    for cell in read(path)["cells"]:
        if cell["cell_type"] == "markdown" and TAG not in cell.get("metadata", {}).get("tags", []):
            return source_of(cell)
    return ""


def title(path: Path) -> str:
    """The lesson's title: its first markdown heading (``# 00 · Getting started``)."""
    match = HEADING.search(_first_markdown(path))
    return match.group(1).strip() if match else path.stem


def lesson_time(path: Path) -> str:
    """The ``**Time:** 25 min`` line of the notebook's first markdown cell ("?" when missing)."""
    match = TIME.search(_first_markdown(path))
    return match.group(1).strip() if match else "?"


def course_map_markdown(root: Path | None = None) -> str:
    """The README's course map: one row per lesson with its lab and time."""
    root = root or find_root()
    rows = ["| # | Lesson | Lab | Time |", "|---|---|---|---|"]
    for name in lab_names(root, "notebooks"):
        lesson = root / "notebooks" / f"{name}.ipynb"
        lab = f"[lab](labs/{name}.ipynb)" if (root / "labs" / f"{name}.ipynb").exists() else "—"
        rows.append(f"| {name[:2]} | [{title(lesson)}](notebooks/{name}.ipynb) | {lab} | {lesson_time(lesson)} |")
    return "\n".join(rows)


def navigation_markdown(root: Path, folder: str, name: str) -> str:
    """The navigation line for one notebook; links are relative to its folder."""
    names = lab_names(root, folder)
    index = names.index(name)
    parts = []
    if index > 0:
        parts.append(f"[← {names[index - 1]}]({names[index - 1]}.ipynb)")
    parts.append("[Course map](../README.md#course-map)")
    if folder == "notebooks":
        if (root / "labs" / f"{name}.ipynb").exists() or (root / "solutions" / f"{name}.ipynb").exists():
            parts.append(f"[Lab {name[:2]}](../labs/{name}.ipynb)")
    else:
        parts.append(f"[Lesson {name[:2]}](../notebooks/{name}.ipynb)")
    if index + 1 < len(names):
        parts.append(f"[{names[index + 1]} →]({names[index + 1]}.ipynb)")
    return "*" + " | ".join(parts) + "*"


def _nav_cell(text: str, where: str) -> dict:
    return {"cell_type": "markdown", "id": f"navigation-{where}", "metadata": {"tags": [TAG]}, "source": text}


def refreshed(path: Path, root: Path, folder: str) -> str:
    """The notebook's text with its navigation cells (re)made, everything else untouched."""
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    text = navigation_markdown(root, folder, path.stem)
    body = [c for c in nb.cells if TAG not in c.get("metadata", {}).get("tags", [])]
    nb.cells = [nbformat.from_dict(_nav_cell(text, "top")), *body, nbformat.from_dict(_nav_cell(text, "bottom"))]
    return nbformat.writes(nb) + "\n"


def stale(root: Path, folders: tuple[str, ...] = ("notebooks", "solutions")) -> list[str]:
    return [
        f"{folder}/{name}.ipynb"
        for folder in folders
        for name in lab_names(root, folder)
        if (root / folder / f"{name}.ipynb").read_text(encoding="utf-8") != refreshed(root / folder / f"{name}.ipynb", root, folder)
    ]


def write_readme(root: Path) -> None:
    readme = root / "README.md"
    block = f"{START}\n{course_map_markdown(root)}\n{END}"
    text = readme.read_text(encoding="utf-8") if readme.exists() else ""
    if START in text and END in text:
        text = text[: text.index(START)] + block + text[text.index(END) + len(END) :]
    else:
        text = text.rstrip("\n") + ("\n\n" if text else "") + f"## Course map\n\n{block}\n"
    readme.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localcloud.grading.navigation", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if navigation is stale")
    parser.add_argument("--readme", action="store_true", help="rewrite the course map block in README.md")
    parser.add_argument("--root", type=Path, default=None)
    args = parser.parse_args(argv)
    root = find_root(args.root)
    if args.readme:
        write_readme(root)
        print("README.md course map rewritten")
        return 0
    outdated = stale(root)
    if args.check:
        for path in outdated:
            print(f"stale navigation: {path} — run `python -m localcloud.grading.navigation`", file=sys.stderr)
        return 1 if outdated else 0
    for path in outdated:
        folder, name = path.split("/")
        (root / path).write_text(refreshed(root / path, root, folder), encoding="utf-8")
        print(f"wrote {path}")
    if outdated:
        print("now run `python -m localcloud.grading.labgen` so labs/ get the same links")
    return 0


if __name__ == "__main__":
    sys.exit(main())
