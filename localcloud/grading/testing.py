"""The test functions every lab gets; ``tests/labs/conftest.py`` adds them to each lab's module.

A lab's test module only registers checks and known-wrong answers; these three functions become its
tests (one per exercise, one per wrong answer) with nothing else to write:

* ``test_exercise`` — each exercise passes on the notebooks in ``--labs DIR`` (default ``solutions/``);
* ``test_untouched_lab_is_not_attempted`` — the generated lab says "not attempted", not "failed";
* ``test_known_wrong_answer_fails`` — each kept wrong answer fails, for its expected reason.

The last two prove the checks are not vacuous; they run only when ``--labs`` is not given.
"""

from __future__ import annotations

from pathlib import Path

from .exercises import FAILED, NOT_ATTEMPTED, Exercise, KnownWrong
from .runner import load_exercises, run_exercise


def notebook_in(folder: Path, lab: str) -> Path:
    """A lab's notebook in a course folder or a student's folder (``DIR/NN.ipynb`` or ``DIR/labs/NN.ipynb``)."""
    for candidate in (folder / f"{lab}.ipynb", folder / "labs" / f"{lab}.ipynb"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"no {lab}.ipynb in {folder} (nor in {folder / 'labs'})")


def test_exercise(exercise: Exercise, labs_dir: Path) -> None:
    result = run_exercise(notebook_in(labs_dir, exercise.lab), exercise)
    assert result.passed, result.line(exercise.title)


def test_untouched_lab_is_not_attempted(exercise: Exercise, course_root: Path, proofs: None) -> None:
    result = run_exercise(course_root / "labs" / f"{exercise.lab}.ipynb", exercise)
    assert result.status == NOT_ATTEMPTED, result.line(exercise.title)


def test_known_wrong_answer_fails(wrong: KnownWrong, lab_name: str, course_root: Path, proofs: None) -> None:
    exercise = load_exercises(lab_name, course_root)[wrong.exercise]
    result = run_exercise(course_root / "solutions" / f"{lab_name}.ipynb", exercise, code=wrong.code)
    assert result.status == FAILED, f"a known-wrong answer was not marked failed: {result.line(exercise.title)}"
    assert wrong.reason in result.message, f"expected the reason to mention {wrong.reason!r}, got {result.message!r}"
