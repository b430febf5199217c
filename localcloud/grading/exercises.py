"""Exercises and their checks: the one place a lab's grading logic lives.

A lab's test module (``tests/labs/test_NN_name.py``) builds an :class:`Exercises` registry and
decorates one check function per exercise. The same registry serves three callers, so a check is
written once: ``lab.check(n)`` in the notebook, pytest in ``tests/labs``, and the gradebook.

A check receives the notebook's namespace (and, if it asks for a second argument, a freshly reset
``Cloud``). It passes by returning, fails by raising :class:`Fail` / ``AssertionError`` with a reason
written for the student, and any :class:`NotAttempted` raised by the student's code — directly or
wrapped by the Lambda runtime — turns into the distinct "not attempted" status (Kaggle learntools
style: an untouched exercise is not a wrong one).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

PASSED, FAILED, NOT_ATTEMPTED, ERROR, TIMEOUT = "passed", "failed", "not attempted", "error", "timeout"
STATUSES = (PASSED, FAILED, NOT_ATTEMPTED, ERROR, TIMEOUT)

PLACEHOLDER = "raise NotAttempted("  # what labgen leaves where a solution was


class NotAttempted(NotImplementedError):
    """Raised by the placeholder that replaces a solution in a generated lab."""

    def _render_traceback_(self) -> list[str]:  # IPython shows this line instead of a traceback
        what = str(self) or "this exercise"
        return [f"… {what} not attempted yet — replace the `raise NotAttempted(...)` line with your code"]


class Fail(AssertionError):
    """Raised by a check with the reason the student should read (``AssertionError`` works too)."""


class Missing(Fail):
    """A name the check needs is not in the notebook: the exercise cell was not run (or renamed)."""


class Namespace:
    """Attribute access to the notebook's variables, with a student-friendly message when one is missing."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = values

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return self._values[name]
        except KeyError:
            raise Missing(f"`{name}` is not defined — run the exercise cell (and keep the name `{name}`)") from None

    def __contains__(self, name: str) -> bool:
        return name in self._values

    def get(self, name: str, default: Any = None) -> Any:
        return self._values.get(name, default)


@dataclass(frozen=True)
class Result:
    """What one check said about one exercise; the gradebook writes these as CSV rows."""

    exercise: int
    status: str
    message: str = ""

    @property
    def passed(self) -> bool:
        return self.status == PASSED

    def line(self, title: str = "") -> str:
        """The one line a student sees under their exercise."""
        name = f"Exercise {self.exercise}" + (f" ({title})" if title else "")
        if self.status == PASSED:
            return f"✓ {name} passed"
        if self.status == NOT_ATTEMPTED:
            return f"… {name} not attempted — replace the `raise NotAttempted(...)` line with your code"
        return f"✗ {name} {self.status}: {self.message}"


@dataclass(frozen=True)
class KnownWrong:
    """A wrong answer kept with the tests, and the reason its check must give (proof the check bites)."""

    exercise: int
    code: str
    reason: str


@dataclass(frozen=True)
class Exercise:
    number: int
    title: str
    check: Callable[..., None]
    hint: str
    solution: str = ""
    lab: str = ""

    @property
    def needs_cloud(self) -> bool:
        """A check with two parameters gets a ``Cloud``; one-parameter checks skip moto entirely."""
        return len(inspect.signature(self.check).parameters) >= 2


@dataclass
class Exercises:
    """The registry a lab's test module exposes as ``EXERCISES``."""

    lab: str
    _by_number: dict[int, Exercise] = field(default_factory=dict)
    wrong: list[KnownWrong] = field(default_factory=list)

    def check(self, number: int, title: str, *, hint: str, solution: str = "") -> Callable:
        """Decorator registering ``fn(ns)`` or ``fn(ns, cloud)`` as the check for exercise `number`."""

        def register(fn: Callable[..., None]) -> Callable[..., None]:
            if number in self._by_number:
                raise ValueError(f"{self.lab}: exercise {number} registered twice")
            self._by_number[number] = Exercise(number, title, fn, hint, solution, self.lab)
            return fn

        return register

    def known_wrong(self, number: int, code: str, *, reason: str) -> None:
        """Keep a wrong answer (the whole exercise cell) whose check must fail mentioning `reason`."""
        self.wrong.append(KnownWrong(number, code, reason))

    def __getitem__(self, number: int) -> Exercise:
        try:
            return self._by_number[number]
        except KeyError:
            raise KeyError(f"{self.lab} has no exercise {number}; it has {self.numbers}") from None

    def __iter__(self) -> Iterator[Exercise]:
        return iter(sorted(self._by_number.values(), key=lambda e: e.number))

    def __len__(self) -> int:
        return len(self._by_number)

    @property
    def numbers(self) -> list[int]:
        return sorted(self._by_number)


def is_not_attempted(exc: BaseException | None) -> bool:
    """True when `exc` is, wraps or reports a :class:`NotAttempted` (the runtime re-raises handler errors)."""
    seen = 0
    while exc is not None and seen < 20:
        if isinstance(exc, NotAttempted) or type(exc).__name__ == "NotAttempted" or "NotAttempted" in str(exc):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def run_check(
    exercise: Exercise,
    values: Mapping[str, Any],
    cloud_factory: Callable[[], Any] | None = None,
    *,
    untouched: bool = False,
) -> Result:
    """Run one check and turn whatever happens into a :class:`Result` — never raises (except Ctrl-C).

    `untouched` says the exercise code still holds the placeholder; a failing check then reports
    "not attempted" even when the failure surfaced indirectly (an async handler, a missing item).
    """
    number = exercise.number
    try:
        args: list[Any] = [Namespace(values)]
        if exercise.needs_cloud:
            if cloud_factory is None:
                raise RuntimeError("this check needs a Cloud but none was given")
            args.append(cloud_factory())
        exercise.check(*args)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 — a student's sys.exit() must become a result too
        if is_not_attempted(exc) or untouched:
            return Result(number, NOT_ATTEMPTED, "the exercise still raises NotAttempted")
        if isinstance(exc, AssertionError):
            return Result(number, FAILED, _short(str(exc)) or "the check's assertion failed")
        if isinstance(exc, SystemExit):
            return Result(number, ERROR, f"the code called sys.exit({exc.code!r})")
        if hasattr(exc, "error_type") and hasattr(exc, "function"):  # localcloud.HandlerError, minus the request id
            return Result(number, FAILED, _short(f"function '{exc.function}' raised {exc.error_type}: {exc.error_message}"))
        return Result(number, FAILED, _short(f"your code raised {type(exc).__name__}: {exc}"))
    return Result(number, PASSED, "")


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def handler_errors(cloud, function: str) -> list[str]:
    """The errors (and timeouts) a student's handler hit in background invocations.

    A check of an asynchronous exercise reads them from the trace; a `NotAttempted` among them means
    the student has not written the handler yet, which is "not attempted", not "failed".
    """
    errors = [r.error or "" for r in cloud.trace.filter(kind="invoke", function=function) if r.outcome != "success"]
    if any("NotAttempted" in e for e in errors):
        raise NotAttempted(f"function '{function}'")
    return errors
