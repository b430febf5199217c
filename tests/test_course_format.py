"""The course's format, checked on every stored notebook (issue 4): what an instructor relies on.

Lessons and solutions are stored executed (counts 1..n, no errors, no warnings) so nbval can replay
them; labs are stored blank and generated from solutions; names and numbers match across folders;
navigation and the README's course map follow the files.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from localcloud.grading import labgen, navigation
from localcloud.grading.notebooks import LAB_NAME, exercise_number, lab_code, lab_names, read, source_of
from localcloud.grading.runner import load_exercises

ROOT = Path(__file__).resolve().parents[1]
STORED = [p for folder in ("notebooks", "solutions") for p in sorted((ROOT / folder).glob("*.ipynb"))]
LABS = sorted((ROOT / "labs").glob("*.ipynb"))
WARNING = re.compile(r"\b\w*Warning\b|Traceback \(most recent call last\)")


def ids(paths: list[Path]) -> list[str]:
    return [f"{p.parent.name}/{p.name}" for p in paths]


def test_there_is_a_course():
    assert STORED and LABS, "notebooks/, solutions/ and labs/ should hold the lessons"


@pytest.mark.parametrize("path", STORED, ids=ids(STORED))
def test_stored_notebook_is_executed_in_order_without_errors_or_warnings(path: Path):
    cells = [c for c in read(path)["cells"] if c["cell_type"] == "code"]
    counts = [c.get("execution_count") for c in cells]
    assert counts == list(range(1, len(cells) + 1)), f"execution counts {counts}: re-run with nbconvert --execute"
    for number, cell in enumerate(cells, 1):
        for output in cell.get("outputs", []):
            assert output["output_type"] != "error", f"code cell {number} stored an error: {output.get('ename')}"
            assert output.get("name") != "stderr", f"code cell {number} wrote to stderr: {output.get('text')!r:.200}"
            text = "".join(output.get("text", "")) + "".join(output.get("data", {}).get("text/plain", ""))
            assert not WARNING.search(text), f"code cell {number} stored a warning or traceback: {text!r:.200}"


@pytest.mark.parametrize("path", LABS, ids=ids(LABS))
def test_labs_are_stored_without_outputs(path: Path):
    for cell in read(path)["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None


def test_labs_are_up_to_date_with_solutions():
    assert labgen.stale_labs(ROOT) == [], "labs/ is stale: run `make labs`"


def test_names_match_across_folders():
    lessons = lab_names(ROOT, "notebooks")
    for folder in ("notebooks", "solutions", "labs"):
        bad = [p.name for p in (ROOT / folder).glob("*.ipynb") if not LAB_NAME.match(p.stem)]
        assert not bad, f"{folder}/ names must look like NN-name.ipynb: {bad}"
    assert lab_names(ROOT, "solutions") == lessons, "every lesson needs solutions/NN-name.ipynb, and only lessons"
    assert lab_names(ROOT, "labs") == lessons
    tests = sorted(p.stem for p in (ROOT / "tests" / "labs").glob("test_*.py"))
    assert tests == [f"test_{name.replace('-', '_')}" for name in lessons], "tests/labs/test_NN_name.py per lesson"
    numbers = [name[:2] for name in lessons]
    assert len(set(numbers)) == len(numbers), f"lesson numbers must be unique: {numbers}"


@pytest.mark.parametrize("name", lab_names(ROOT, "solutions"))
def test_each_lab_has_three_checked_exercises_with_known_wrong_answers(name: str):
    exercises = load_exercises(name, ROOT)
    assert exercises.lab == name, f"tests/labs module says Exercises({exercises.lab!r}), expected {name!r}"
    code = lab_code(ROOT / "solutions" / f"{name}.ipynb")
    assert sorted(code.exercises) == exercises.numbers, "every `# Exercise N` cell needs a check, and vice versa"
    assert len(exercises) >= 3, "a lab has at least three exercises"
    assert code.setup, "a lab needs a `# Setup` cell"
    assert {w.exercise for w in exercises.wrong} == set(exercises.numbers), "each exercise needs a known-wrong answer"
    sources = [source_of(c) for c in read(ROOT / "labs" / f"{name}.ipynb")["cells"]]
    for number in exercises.numbers:
        assert f"lab.check({number})" in sources, f"labs/{name}.ipynb needs a `lab.check({number})` cell"
    exercise_cells = [s for s in sources if exercise_number({"cell_type": "code", "source": s}) is not None]
    assert all("raise NotAttempted(" in s for s in exercise_cells), "every exercise cell must start unattempted"


@pytest.mark.parametrize("name", lab_names(ROOT, "notebooks"))
def test_lessons_state_their_time(name: str):
    assert navigation.lesson_time(ROOT / "notebooks" / f"{name}.ipynb") != "?", "first markdown cell needs **Time:** N min"


def test_navigation_cells_are_up_to_date():
    assert navigation.stale(ROOT) == [], "run `python -m localcloud.grading.navigation` then `make labs`"


def test_lessons_link_to_their_labs():
    for name in lab_names(ROOT, "notebooks"):
        text = "".join(source_of(c) for c in read(ROOT / "notebooks" / f"{name}.ipynb")["cells"])
        assert f"../labs/{name}.ipynb" in text


def test_readme_course_map_matches_the_folders():
    readme = (ROOT / "README.md").read_text(encoding="utf-8") if (ROOT / "README.md").exists() else ""
    assert navigation.START in readme and navigation.END in readme, (
        "README.md needs the course map: run `python -m localcloud.grading.navigation --readme`"
    )
    block = readme[readme.index(navigation.START) + len(navigation.START) : readme.index(navigation.END)]
    assert block.strip() == navigation.course_map_markdown(ROOT)


def test_lessons_and_solutions_replay_under_nbval():
    """`pytest --nbval` (strict) with the shipped sanitizers: what an instructor runs."""
    proc = subprocess.run(
        # two workers, one notebook each at a time (a notebook's cells share one kernel): the replay is
        # most of `make test`'s time, and this machine has two cores
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval", "notebooks/", "solutions/",
         "--nbval-sanitize-with", "nbval.cfg", "-n", "2", "--dist", "loadfile", "--durations", "30"],
        cwd=ROOT, capture_output=True, text=True, timeout=1200,
    )
    print(proc.stdout[-4000:])  # per-notebook durations, shown with `pytest -s` or on failure
    assert proc.returncode == 0, proc.stdout[-3000:]
