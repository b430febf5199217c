"""The grading machinery on a synthetic course: labgen, the in-notebook checks, the lab runner."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import grading_course as course
import nbformat
import pytest
from nbclient import NotebookClient

from localcloud.grading import labgen
from localcloud.grading.runner import load_exercises, run_exercise

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LOCALCLOUD_COURSE_ROOT", str(tmp_path))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    return course.build(tmp_path)


def lab_cells(root: Path, kind: str = "code") -> list[str]:
    nb = nbformat.read(str(root / "labs" / f"{course.LAB}.ipynb"), 4)
    return [cell.source if cell.cell_type == kind else "" for cell in nb.cells]


def test_labgen_replaces_solutions_keeping_valid_indented_python(root):
    cells = lab_cells(root)
    assert cells[2] == '# Exercise 1\ndef add(a, b):\n    # YOUR CODE HERE\n    raise NotAttempted("exercise 1")'
    assert cells[6] == '# Exercise 3\n# YOUR CODE HERE\nraise NotAttempted("exercise 3")'  # hidden region gone
    for source in cells:
        compile(source, "cell", "exec")
    assert "BEGIN" not in "".join(cells) and "a + b" not in "".join(cells)


def test_labgen_strips_outputs_and_is_deterministic(root):
    solution = root / "solutions" / f"{course.LAB}.ipynb"
    nb = nbformat.read(str(solution), 4)
    nb.cells[3].outputs = [nbformat.v4.new_output("stream", text="✓ passed\n")]
    nb.cells[3].execution_count = 7
    nb.cells[3].metadata["collapsed"] = True
    nbformat.write(nb, str(solution))
    first, second = labgen.generate(solution), labgen.generate(solution)
    assert first == second
    lab = json.loads(first)
    assert all(c.get("outputs", []) == [] and c.get("execution_count") is None for c in lab["cells"])
    assert lab["cells"][3]["metadata"] == {}


def test_labgen_check_names_the_stale_lab(root, capsys):
    assert labgen.main(["--check", "--root", str(root)]) == 0
    solution = root / "solutions" / f"{course.LAB}.ipynb"
    nb = nbformat.read(str(solution), 4)
    nb.cells[0].source += "\n\nA new paragraph."
    nbformat.write(nb, str(solution))
    assert labgen.main(["--check", "--root", str(root)]) == 1
    assert f"stale: labs/{course.LAB}.ipynb" in capsys.readouterr().err
    assert labgen.main(["--root", str(root)]) == 0
    assert labgen.main(["--check", "--root", str(root)]) == 0


def test_labgen_refuses_unbalanced_markers(root, capsys):
    solution = root / "solutions" / f"{course.LAB}.ipynb"
    nb = nbformat.read(str(solution), 4)
    nb.cells[2].source = nb.cells[2].source.replace("    ### END SOLUTION", "")
    nbformat.write(nb, str(solution))
    assert labgen.main(["--root", str(root)]) == 2
    assert "cell 3: BEGIN SOLUTION is never closed" in capsys.readouterr().err


def test_runner_runs_setup_and_one_exercise_never_the_demo(root):
    exercises = load_exercises(course.LAB, root)
    for exercise in exercises:
        assert run_exercise(root / "solutions" / f"{course.LAB}.ipynb", exercise).status == "passed"
        assert run_exercise(root / "labs" / f"{course.LAB}.ipynb", exercise).status == "not attempted"


def test_runner_reports_a_missing_exercise_cell(root):
    nb = nbformat.read(str(root / "solutions" / f"{course.LAB}.ipynb"), 4)
    nb.cells[2].source = nb.cells[2].source.replace("# Exercise 1\n", "")
    path = root / "edited.ipynb"
    nbformat.write(nb, str(path))
    result = run_exercise(path, load_exercises(course.LAB, root)[1])
    assert (result.status, result.message) == ("error", "no cell starting with `# Exercise 1` in edited.ipynb")


def _execute(path: Path) -> nbformat.NotebookNode:
    nb = nbformat.read(str(path), 4)
    NotebookClient(nb, timeout=60, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return nb


def test_in_notebook_checks_say_one_line_each(root):
    lab = _execute(root / "labs" / f"{course.LAB}.ipynb")
    checks = [c for c in lab.cells if c.source.startswith("lab.check(")]
    for number, cell in enumerate(checks, 1):
        (output,) = cell.outputs
        assert output.output_type == "error" and output.ename == "CheckFailed"
        assert output.traceback == [
            f"… Exercise {number} ({load_exercises(course.LAB, root)[number].title}) not attempted"
            " — replace the `raise NotAttempted(...)` line with your code"
        ]
    solved = _execute(root / "solutions" / f"{course.LAB}.ipynb")
    outputs = [c.outputs for c in solved.cells if c.source.startswith("lab.check(")]
    assert [o[0].text for o in outputs] == [
        "✓ Exercise 1 (add two numbers) passed\n",
        "✓ Exercise 2 (shout) passed\n",
        "✓ Exercise 3 (constant) passed\n",
    ]


def test_in_notebook_failed_check_gives_the_reason_and_hint(root):
    path = course.student(root, "ada", cells={1: "def add(a, b):\n    return a * b\n"}) / "labs" / f"{course.LAB}.ipynb"
    nb = nbformat.read(str(path), 4)
    nb.cells.append(nbformat.v4.new_code_cell("lab.hint(1)"))
    nbformat.write(nb, str(path))
    done = _execute(path)
    check = next(c for c in done.cells if c.source == "lab.check(1)")
    assert check.outputs[0].traceback == ["✗ Exercise 1 (add two numbers) failed: add(2, 3) should return 5, got 6"]
    assert done.cells[-1].outputs[0].text == "💡 Hint for exercise 1: Use the + operator.\n"


def test_nbval_lax_counts_each_unpassed_check_as_a_failure(root):
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "--nbval-lax", "-p", "no:cacheprovider", str(root / "labs" / f"{course.LAB}.ipynb")],
        cwd=root, capture_output=True, text=True, timeout=120,
    )
    failed = sorted(line.split("::")[1].split(" - ")[0] for line in proc.stdout.splitlines() if line.startswith("FAILED"))
    # the three checks (cells 2, 4, 6), exercise 3's top-level placeholder (5) and the demo cell (7)
    assert failed == ["Cell 2", "Cell 4", "Cell 5", "Cell 6", "Cell 7"], proc.stdout[-2000:]
