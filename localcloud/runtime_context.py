"""What the current thread is doing: running a handler, running the runtime itself, or a cell.

Handlers run on execution-environment threads. Knowing which invocation a thread is serving lets
the cloud attribute a handler's AWS calls (flow-graph edges), its printed lines (logs) and the events
it causes (recursive-loop detection) to that invocation.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

_local = threading.local()


@dataclass
class Lineage:
    """The chain of invocations an event descends from, as Lambda tracks it for loop detection."""

    chain_id: str
    hops: dict[str, int] = field(default_factory=dict)  # function name → invocations in this chain

    def extended(self, function: str) -> Lineage:
        hops = dict(self.hops)
        hops[function] = hops.get(function, 0) + 1
        return Lineage(self.chain_id, hops)


@dataclass
class Current:
    function: str
    request_id: str
    lineage: Lineage | None
    log: list[str]


def current() -> Current | None:
    return getattr(_local, "current", None)


def set_current(value: Current | None) -> None:
    _local.current = value


def mark_system_thread() -> None:
    _local.system = True


def is_system_thread() -> bool:
    return getattr(_local, "system", False)


def enter_system() -> tuple[Current | None, bool]:
    """The runtime's own follow-up work (dead-lettering, deletes) runs outside the handler's name.

    A pair of plain calls rather than a context manager: this is on every invocation's path."""
    saved = (getattr(_local, "current", None), getattr(_local, "system", False))
    _local.current, _local.system = None, True
    return saved


def leave_system(saved: tuple[Current | None, bool]) -> None:
    _local.current, _local.system = saved


@contextmanager
def system() -> Iterator[None]:
    saved = enter_system()
    try:
        yield
    finally:
        leave_system(saved)


@contextmanager
def caller(node: str) -> Iterator[None]:
    """Attribute what this thread invokes to `node` (a state machine running a Task)."""
    saved = getattr(_local, "caller", None)
    _local.caller = node
    try:
        yield
    finally:
        _local.caller = saved


def current_caller() -> str | None:
    return getattr(_local, "caller", None)
