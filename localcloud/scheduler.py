"""Timers and in-flight bookkeeping: what lets `cloud.wait()` replace `time.sleep()` in lessons.

One daemon thread runs due callbacks (retries, messages returning after a visibility timeout,
schedule rules). Callbacks must be quick; anything that runs a handler hands off to an execution
environment. The `Work` registry knows everything still in flight, so `wait()` can block until the
cloud is quiet and, when it is not, say what is still pending.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable

from .errors import WaitTimeout


class Work:
    """Counts in-flight work by label; probes report pending work held elsewhere (queues, shards).

    Waiters are woken only when the last tracked piece of work ends or a probe's answer may have
    changed while nothing is tracked: while an invocation runs, `wait()` has nothing to look at, and
    waking it for every finished batch would cost the pollers a thread switch each (issue 3's
    throughput). A generation counter closes the gap between probing and waiting.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._active: dict[int, str] = {}
        self._ids = itertools.count()
        self._probes: list[Callable[[], list[str]]] = []
        self._generation = 0

    def begin(self, label: str) -> int:
        with self._cond:
            token = next(self._ids)
            self._active[token] = label
            return token

    def end(self, token: int) -> None:
        with self._cond:
            self._active.pop(token, None)
            if not self._active:
                self._changed()

    def poke(self) -> None:
        """Tell waiters to look again (a probe's answer may have changed)."""
        with self._cond:
            if not self._active:  # else the end of the last active piece wakes them
                self._changed()

    def _changed(self) -> None:
        self._generation += 1
        self._cond.notify_all()

    def add_probe(self, probe: Callable[[], list[str]]) -> None:
        with self._cond:
            self._probes.append(probe)

    def remove_probe(self, probe: Callable[[], list[str]]) -> None:
        with self._cond:
            if probe in self._probes:
                self._probes.remove(probe)

    def _look(self, *, report: bool = False) -> tuple[list[str], int]:
        """What is pending, and the generation it was read at.

        While tracked work runs, that alone answers whether `wait()` must go on waiting; the probes
        (which take locks elsewhere) are asked when nothing is tracked, or for a full `report`.
        """
        with self._cond:
            labels = list(self._active.values())
            probes = list(self._probes)
            generation = self._generation
        if labels and not report:
            return labels, generation
        for probe in probes:
            labels.extend(probe())
        return labels, generation

    def wait_idle(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            pending, generation = self._look()
            if not pending:
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                pending = self.pending()
                shown = sorted(set(pending))
                summary = "; ".join(f"{label} (×{pending.count(label)})" if pending.count(label) > 1 else label
                                    for label in shown[:8])
                more = f"; and {len(shown) - 8} more" if len(shown) > 8 else ""
                raise WaitTimeout(
                    f"cloud.wait() timed out after {timeout:g} s with work still pending: {summary}{more}. "
                    "Pass a longer timeout, or look at cloud.trace for what keeps failing."
                )
            with self._cond:
                if self._generation == generation:
                    self._cond.wait(min(remaining, 0.005))  # probes without a poke (Step Functions runs)

    def pending(self) -> list[str]:
        """Everything pending: tracked work and every probe's answer."""
        return self._look(report=True)[0]

    def clear(self) -> None:
        with self._cond:
            self._active.clear()
            self._changed()


def _cancelled() -> None:
    """What a cancelled timer holds instead of its callback."""


class Timer:
    __slots__ = ("due", "callback", "label", "cancelled", "token")

    def __init__(self, due: float, callback: Callable[[], None], label: str, token: int | None) -> None:
        self.due, self.callback, self.label, self.token = due, callback, label, token
        self.cancelled = False

    def __lt__(self, other: Timer) -> bool:
        return self.due < other.due


class Scheduler:
    """Runs callbacks at real-time deadlines on one daemon thread."""

    def __init__(self, work: Work, on_error: Callable[[BaseException], None]) -> None:
        self._work = work
        self._on_error = on_error
        self._heap: list[Timer] = []
        self._cond = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="localcloud-scheduler", daemon=True)
        self._thread.start()

    def call_later(self, delay: float, callback: Callable[[], None], label: str, *, tracked: bool = True) -> Timer:
        """Run `callback` after `delay` real seconds. Tracked timers keep `cloud.wait()` waiting."""
        token = self._work.begin(label) if tracked else None
        timer = Timer(time.monotonic() + max(0.0, delay), callback, label, token)
        with self._cond:
            heapq.heappush(self._heap, timer)
            if self._heap[0] is timer:  # only an earlier deadline needs the thread to wake up
                self._cond.notify()
        return timer

    def cancel(self, timer: Timer) -> None:
        timer.cancelled = True
        timer.callback = _cancelled  # the heap keeps the timer until its due time, not what it would have run
        if timer.token is not None:
            self._work.end(timer.token)

    def clear(self) -> None:
        with self._cond:
            for timer in self._heap:
                timer.cancelled = True
            self._heap.clear()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._heap.clear()
            self._cond.notify()

    def _run(self) -> None:
        from .runtime_context import mark_system_thread

        mark_system_thread()
        while True:
            with self._cond:
                while not self._stopped and (not self._heap or self._heap[0].due > time.monotonic()):
                    self._cond.wait(None if not self._heap else self._heap[0].due - time.monotonic())
                if self._stopped:
                    return
                timer = heapq.heappop(self._heap)
            if timer.cancelled:
                continue
            try:
                timer.callback()
            except BaseException as exc:  # a bug in a callback must not stop every later timer
                self._on_error(exc)
            finally:
                if timer.token is not None:
                    self._work.end(timer.token)
