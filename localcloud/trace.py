"""The trace: one record per thing that happened in the local cloud.

Everything a lesson shows (flow graph, timeline, summary, cost) and many tests read this, so it
records facts only — never a picture's idea of them. Times are seconds on the cloud's monotonic
clock, counted from the moment the `Cloud` started, so two runs of a cell line up.

Node names are ``"kind:name"`` so a picture can draw each kind its own way:
``client`` (a notebook cell), ``api``, ``bucket``, ``topic``, ``queue``, ``stream``, ``table``,
``bus``, ``function``, ``statemachine``.
"""

from __future__ import annotations

import bisect
import itertools
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field

# What a record is about. Pictures and summaries switch on these, so they are a closed set.
INVOKE = "invoke"  # a handler ran (or tried to): outcome success | error | timeout
THROTTLE = "throttle"  # an invocation refused by a concurrency limit
CALL = "call"  # an AWS API call made by a cell or a handler (edges such as function → table)
DELIVER = "deliver"  # a service delivered to another service (topic → queue, bucket → topic)
RETRY = "retry"  # an event or batch scheduled to be tried again
DEAD_LETTER = "dead-letter"  # an event given up on and sent to a DLQ / on-failure destination
DROP = "drop"  # an event given up on with nowhere to go (AWS discards it); always visible here
KINDS = (INVOKE, THROTTLE, CALL, DELIVER, RETRY, DEAD_LETTER, DROP)

SUCCESS, ERROR, TIMEOUT, THROTTLED = "success", "error", "timeout", "throttled"


@dataclass(frozen=True, slots=True)
class Record:
    """One fact. Fields that do not apply to a kind keep their defaults."""

    kind: str
    seq: int
    start: float
    source: str
    target: str
    end: float | None = None
    function: str | None = None
    request_id: str | None = None
    environment: str | None = None  # execution environment id, e.g. "worker/2"
    cold: bool = False
    init_ms: float = 0.0  # cold-start init time (module import), 0 when warm
    duration_ms: float = 0.0  # handler run time
    attempt: int = 1
    outcome: str = SUCCESS
    error: str | None = None
    batch_size: int = 0
    event_ids: tuple[str, ...] = ()
    invocation: str = ""  # "sync" | "async" | "poll" for invocations
    destination: str | None = None  # where a failed event went, e.g. "queue:orders-dlq"
    operation: str | None = None  # API operation for CALL / DELIVER records
    memory_mb: int = 0
    detail: dict = field(default_factory=dict, compare=False)

    def as_row(self) -> dict:
        """A plain dict (no nested dataclasses) for tables and plots."""
        row = asdict(self)
        row["event_ids"] = list(self.event_ids)
        return row


class Trace:
    """An ordered, thread-safe list of records with filters that return new `Trace` objects."""

    def __init__(self, records: Iterable[Record] = ()) -> None:
        self._records: list[Record] = list(records)
        self._lock = threading.Lock()
        self._seq = itertools.count(len(self._records) + 1)
        self._listeners: list[Callable[[Record], None]] = []

    # -- writing (the runtime only) --------------------------------------------------------------
    def reserve(self) -> int:
        """A sequence number now, for a record written later (a call is recorded once it answers,
        but belongs before the invocations it caused)."""
        with self._lock:
            return next(self._seq)

    def add(self, kind: str, start: float, source: str, target: str, *, seq: int | None = None,
            **fields) -> Record:
        with self._lock:
            number = next(self._seq) if seq is None else seq
            record = Record(kind=kind, seq=number, start=start, source=source, target=target, **fields)
            if self._records and self._records[-1].seq > number:  # a reserved place: keep seq order
                at = bisect.bisect(self._records, number, key=lambda r: r.seq)
                self._records.insert(at, record)
            else:
                self._records.append(record)
            listeners = list(self._listeners)
        for listener in listeners:
            listener(record)
        return record

    def subscribe(self, listener: Callable[[Record], None]) -> None:
        """Call `listener(record)` for every new record (progress bars, live panels)."""
        with self._lock:
            self._listeners.append(listener)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
            self._seq = itertools.count(1)

    # -- reading ---------------------------------------------------------------------------------
    @property
    def records(self) -> list[Record]:
        with self._lock:
            return list(self._records)

    def __iter__(self) -> Iterator[Record]:
        return iter(self.records)

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)

    def __getitem__(self, index: int) -> Record:
        return self.records[index]

    def filter(
        self,
        predicate: Callable[[Record], bool] | None = None,
        *,
        kind: str | Iterable[str] | None = None,
        function: str | None = None,
        source: str | None = None,
        target: str | None = None,
        outcome: str | None = None,
        since: float | None = None,
    ) -> Trace:
        """A new trace with the records that match every given criterion.

        `source` / `target` match a whole node name (``"topic:new-user"``) or just its name part.
        """
        kinds = {kind} if isinstance(kind, str) else set(kind) if kind is not None else None

        def node_matches(value: str, wanted: str | None) -> bool:
            return wanted is None or value == wanted or value.split(":", 1)[-1] == wanted

        picked = [
            r
            for r in self.records
            if (kinds is None or r.kind in kinds)
            and (function is None or r.function == function)
            and node_matches(r.source, source)
            and node_matches(r.target, target)
            and (outcome is None or r.outcome == outcome)
            and (since is None or r.start >= since)
            and (predicate is None or predicate(r))
        ]
        return Trace(picked)

    @property
    def invocations(self) -> Trace:
        return self.filter(kind=INVOKE)

    def rows(self) -> list[dict]:
        return [r.as_row() for r in self.records]

    def outcomes(self) -> dict[str, int]:
        """How many invocations ended each way — a quick check in a cell or a test."""
        counts: dict[str, int] = {}
        for r in self.records:
            if r.kind == INVOKE:
                counts[r.outcome] = counts.get(r.outcome, 0) + 1
        return counts

    def table(self, columns: tuple[str, ...] = ("seq", "kind", "source", "target", "outcome", "attempt")) -> str:
        """A fixed-width text table, stable enough to store in a notebook's output."""
        rows = [[str(getattr(r, c)) for c in columns] for r in self.records]
        widths = [max([len(c)] + [len(row[i]) for row in rows]) for i, c in enumerate(columns)]
        line = "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))
        body = ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in rows]
        return "\n".join([line, *body])

    def __repr__(self) -> str:
        return f"<Trace {len(self)} records: {self.outcomes() or 'no invocations'}>"
