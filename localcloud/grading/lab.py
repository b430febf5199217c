"""The in-notebook side of a lab: ``lab.check(n)``, ``lab.hint(n)``, ``lab.solution(n)``.

A student sees one short line per check. A check that does not pass raises :class:`CheckFailed`,
whose IPython traceback is that same line — the cell turns red (so ``pytest --nbval-lax`` counts
it) without burying the reason under a wall of traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from .exercises import PLACEHOLDER, Exercises, Result, run_check
from .notebooks import EXERCISE_LINE, find_root
from .runner import cloud_factory, load_exercises


class CheckFailed(Exception):
    """A check that did not pass; shown in Jupyter as its one-line message only."""

    def __init__(self, result: Result, title: str = "") -> None:
        self.result = result
        super().__init__(result.line(title))

    def _render_traceback_(self) -> list[str]:  # IPython's hook: these lines replace the traceback
        return [str(self)]


class Lab:
    """The checks of one lab, loaded from its test module (``tests/labs/test_NN_name.py``)."""

    def __init__(self, name: str, root: Path | str | None = None) -> None:
        self.name = name
        self.root = find_root(root)
        self.exercises: Exercises = load_exercises(name, self.root)
        self._created: list[Any] = []

    def check(self, number: int) -> None:
        """Check exercise `number` against the variables of the calling notebook."""
        values = sys._getframe(1).f_globals
        exercise = self.exercises[number]
        result = run_check(exercise, values, cloud_factory(values, self._created), untouched=_untouched(values, number))
        if not result.passed:
            raise CheckFailed(result, exercise.title)
        print(result.line(exercise.title))

    def hint(self, number: int) -> None:
        print(f"💡 Hint for exercise {number}: {self.exercises[number].hint}")

    def solution(self, number: int) -> None:
        text = self.exercises[number].solution or "ask your instructor — this one has no written solution"
        print(f"Solution idea for exercise {number}: {text}")

    def __repr__(self) -> str:
        return f"<Lab {self.name}: exercises {self.exercises.numbers}>"


def _untouched(values: dict[str, Any], number: int) -> bool:
    """True when the last run of exercise `number`'s cell (IPython's ``In`` history) kept the placeholder."""
    history = values.get("In")
    if not isinstance(history, list):
        return False
    for source in reversed(history):
        first = next((line.strip() for line in str(source).splitlines() if line.strip()), "")
        match = EXERCISE_LINE.match(first)
        if match and int(match.group(1)) == number:
            return PLACEHOLDER in source
    return False
