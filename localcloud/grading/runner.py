"""Run one exercise of one notebook the way every grader does: setup cells, that exercise, its check.

Shared by pytest (``tests/labs``), the gradebook's worker processes and the format tests, so a
student, an instructor and CI all get the same verdict for the same notebook.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .exercises import (
    ERROR,
    NOT_ATTEMPTED,
    PLACEHOLDER,
    Exercise,
    Exercises,
    Result,
    _short,
    is_not_attempted,
    run_check,
)
from .notebooks import find_root, lab_code, test_module_path


def load_exercises(lab: str, root: Path | None = None) -> Exercises:
    """Import ``tests/labs/test_NN_name.py`` by path and return its ``EXERCISES`` registry."""
    root = root or find_root()
    path = test_module_path(root, lab)
    if not path.exists():
        raise FileNotFoundError(f"no checks for lab {lab!r}: expected {path}")
    name = f"_localcloud_lab_checks_{lab.replace('-', '_')}_{abs(hash(str(path)))}"
    if name in sys.modules:
        return sys.modules[name].EXERCISES
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    exercises = getattr(module, "EXERCISES", None)
    if not isinstance(exercises, Exercises):
        raise TypeError(f"{path} must define EXERCISES = Exercises({lab!r})")
    return exercises


def cloud_factory(values: dict[str, Any], created: list[Any]) -> Callable[[], Any]:
    """A factory giving checks an empty cloud: the notebook's own ``Cloud`` reset, or a new one.

    Reusing the notebook's cloud matters because moto is process-wide: two live clouds in one
    kernel would share (and fight over) the same mock.
    """

    def make() -> Any:
        from localcloud import Cloud

        candidates = [values.get("cloud"), *values.values()]
        for value in candidates:
            if isinstance(value, Cloud):
                value.reset()
                return value
        cloud = Cloud()
        created.append(cloud)
        values["cloud"] = cloud
        return cloud

    return make


def close_clouds(values: dict[str, Any], created: list[Any]) -> None:
    try:
        from localcloud import Cloud
    except ImportError:
        return
    seen: set[int] = set()
    for value in [*values.values(), *created]:
        if isinstance(value, Cloud) and id(value) not in seen:
            seen.add(id(value))
            value.close()


def _exec(code: str, values: dict[str, Any], label: str) -> None:
    exec(compile(code, label, "exec"), values)  # noqa: S102 — running the student's cell is the point


def run_exercise(notebook: Path | str, exercise: Exercise, *, code: str | None = None) -> Result:
    """Grade `exercise` in `notebook`; `code` replaces the exercise cells (known-wrong answers)."""
    notebook = Path(notebook)
    number = exercise.number
    lab = lab_code(notebook)
    if code is None:
        if number not in lab.exercises:
            return Result(number, ERROR, f"no cell starting with `# Exercise {number}` in {notebook.name}")
        code = lab.exercise(number)
    values: dict[str, Any] = {"__name__": "__main__"}
    created: list[Any] = []
    try:
        for i, setup in enumerate(lab.setup, 1):
            try:
                _exec(setup, values, f"<{notebook.name} setup cell {i}>")
            except BaseException as exc:  # noqa: BLE001
                if isinstance(exc, KeyboardInterrupt):
                    raise
                return Result(number, ERROR, _short(f"a setup cell failed: {type(exc).__name__}: {exc}"))
        try:
            _exec(code, values, f"<{notebook.name} exercise {number}>")
        except SyntaxError as exc:
            return Result(number, ERROR, _short(f"syntax error on line {exc.lineno}: {exc.msg}"))
        except BaseException as exc:  # noqa: BLE001
            if isinstance(exc, KeyboardInterrupt):
                raise
            if is_not_attempted(exc):
                return Result(number, NOT_ATTEMPTED, "the exercise still raises NotAttempted")
            if isinstance(exc, SystemExit):
                return Result(number, ERROR, f"the exercise cell called sys.exit({exc.code!r})")
            return Result(number, ERROR, _short(f"the exercise cell raised {type(exc).__name__}: {exc}"))
        return run_check(exercise, values, cloud_factory(values, created), untouched=PLACEHOLDER in code)
    finally:
        close_clouds(values, created)
