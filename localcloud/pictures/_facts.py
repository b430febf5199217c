"""Small facts every picture derives the same way from a trace (time origin, when a handler ran).

Kept in one place so the timeline, the summary and the sequence diagram can never disagree about,
say, when an invocation ended.
"""

from __future__ import annotations

from localcloud.trace import INVOKE, Record, Trace


def origin(trace: Trace | list[Record]) -> float:
    """The cloud-clock time (s) of the first record: time zero for every picture of this trace."""
    records = trace.records if isinstance(trace, Trace) else trace
    return min((r.start for r in records), default=0.0)


def invoke_phases(r: Record) -> tuple[float, float, float]:
    """(start, handler_start, end) in seconds for an invoke record.

    The runtime records `start` when the environment took the event, `init_ms` for a cold start's
    module import and `duration_ms` for the handler. When `end` is missing it is rebuilt from them.
    """
    handler_start = r.start + r.init_ms / 1000.0
    if r.end is not None and r.end >= handler_start:
        end = r.end
    else:
        end = handler_start + r.duration_ms / 1000.0
    return r.start, handler_start, end


def last_handler_end(trace: Trace) -> float | None:
    ends = [invoke_phases(r)[2] for r in trace.records if r.kind == INVOKE]
    return max(ends) if ends else None


def function_of(r: Record) -> str:
    """The function an invoke / throttle / retry record is about."""
    if r.function:
        return r.function
    if r.target.startswith("function:"):
        return r.target.split(":", 1)[1]
    return r.target
