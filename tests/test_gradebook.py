"""The gradebook on a synthetic class: one broken submission must never cost another's grade."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import grading_course as course
import pytest

ROOT = Path(__file__).resolve().parents[1]

BROKEN_1 = {
    1: "def add(a, b)\n    return a + b\n",  # syntax error
    2: "def shout(text):\n    return text.upper() + '!'\nwhile True:\n    pass\n",  # infinite loop at exec
    3: "import sys\nsys.exit(3)\n",
}
BROKEN_2 = {
    1: "print('x' * 50_000_000)\ndef add(a, b):\n    return a + b\n",  # huge print, then correct
    2: "open('junk.bin', 'wb').write(b'0' * 1000)\nimport os\nos.makedirs('deep/dir')\n"
    "def shout(text):\n    return text.upper() + '!'\n",  # writes files in its cwd, then correct
    3: "import no_such_module_for_grading\nANSWER = 42\n",  # exception at import
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[tuple[str, int], tuple[str, str]], str]:
    root = course.build(tmp_path_factory.mktemp("course"))
    course.student(root, "correct")
    course.student(root, "untouched", source="labs")
    course.student(root, "wrong", cells={1: "def add(a, b):\n    return a - b\n", 2: "def shout(t):\n    return t\n"})
    course.student(root, "broken1", cells=BROKEN_1)
    course.student(root, "broken2", cells=BROKEN_2)
    flat = root / "submissions" / "flat"  # notebooks directly in the student's folder
    flat.mkdir()
    (flat / f"{course.LAB}.ipynb").write_bytes((root / "solutions" / f"{course.LAB}.ipynb").read_bytes())
    (root / "submissions" / "nothing").mkdir()  # handed in no notebook at all
    out = root / "grades.csv"
    proc = subprocess.run(
        [sys.executable, "-m", "localcloud.grading.gradebook", str(root / "submissions"), "--out", str(out),
         "--timeout", "4", "--root", str(root)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    with open(out, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    grades = {(r["student"], int(r["exercise"])): (r["status"], r["message"]) for r in rows}
    return root, grades, proc.stdout


def test_csv_has_one_row_per_student_and_exercise(graded):
    root, grades, _ = graded
    header = (root / "grades.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == "student,lab,exercise,status,message"
    students = {"correct", "untouched", "wrong", "broken1", "broken2", "flat", "nothing"}
    assert set(grades) == {(s, n) for s in students for n in (1, 2, 3)}


def test_correct_and_untouched_submissions(graded):
    _, grades, _ = graded
    for student in ("correct", "flat"):
        assert [grades[(student, n)][0] for n in (1, 2, 3)] == ["passed"] * 3
    for student in ("untouched", "nothing"):
        assert [grades[(student, n)][0] for n in (1, 2, 3)] == ["not attempted"] * 3
    assert grades[("nothing", 1)][1] == "notebook not handed in"


def test_wrong_answers_fail_with_the_checks_reason(graded):
    _, grades, _ = graded
    assert grades[("wrong", 1)] == ("failed", "add(2, 3) should return 5, got -1")
    assert grades[("wrong", 2)] == ("failed", "shout('hi') should return 'HI!', got 'hi'")
    assert grades[("wrong", 3)][0] == "passed"  # untouched cells of a wrong student still count


def test_broken_code_costs_only_its_own_exercise(graded):
    _, grades, _ = graded
    status, message = grades[("broken1", 1)]
    assert status == "error" and "syntax error on line 2" in message
    assert grades[("broken1", 2)][0] == "timeout"
    assert grades[("broken1", 3)] == ("error", "the exercise cell called sys.exit(3)")
    assert grades[("broken2", 1)][0] == "passed"  # a 50 MB print is swallowed, not fatal
    assert grades[("broken2", 2)][0] == "passed"  # files go to a throw-away cwd
    status, message = grades[("broken2", 3)]
    assert status == "error" and "ModuleNotFoundError" in message


def test_student_files_do_not_land_in_the_course(graded):
    root, _, _ = graded
    assert not list(root.rglob("junk.bin")) and not (ROOT / "junk.bin").exists()


def test_summary_table_per_student(graded):
    _, _, stdout = graded
    lines = stdout.splitlines()
    assert lines[0].split() == ["student", "passed", "failed", "not", "attempted", "error", "timeout", "score"]
    by_student = {line.split()[0]: line.split() for line in lines[1:8]}
    assert by_student["correct"][-1] == "3/3"
    assert by_student["broken1"][1:6] == ["0", "0", "0", "2", "1"]
    assert by_student["wrong"][-1] == "1/3"
