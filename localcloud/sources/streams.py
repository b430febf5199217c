"""Kinesis and DynamoDB Streams → Lambda: one shard poller serving both, with AWS's stream rules.

AWS's rules (DESIGN.md): records are read per shard, in order, in batches of up to `BatchSize`
(default 100), one batch in flight per shard. A failing batch blocks its shard: it is retried until
it succeeds, `MaximumRetryAttempts` is used up or its oldest record is older than
`MaximumRecordAgeInSeconds` (-1 means the stream's retention). `BisectBatchOnFunctionError` splits a
failing batch in two and retries the halves (splits do not use up attempts). With
`ReportBatchItemFailures` the shard checkpoints just before the lowest reported sequence number.
Records given up on are skipped; the on-failure destination (SQS or SNS) receives a description of
the batch (shard, sequence numbers), not the records — as on AWS.

The two services differ only in where records come from and what an event record looks like, which
each module (`kinesis.py`, `dynamodb_streams.py`) supplies as a `StreamSource`.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from .. import trace as tr
from ..destinations import node_for_arn
from ..runtime import Result
from .mappings import ThreadPoller, record_filter
from .sqs import batch_failures

DEFAULT_BATCH = 100
RETRY_BACKOFF = (1.0, 60.0)  # AWS seconds: first retry delay, doubling, capped


@dataclass
class StreamRecord:
    """One record read from a shard: its sequence number, arrival (epoch s) and event record."""

    seq: int
    arrival: float
    event: dict[str, Any]

    @property
    def event_id(self) -> str:
        return str(self.event.get("eventID"))

    @property
    def sequence_number(self) -> str:
        return sequence_number_of(self.event)


def sequence_number_of(event: dict[str, Any]) -> str:
    return str((event.get("kinesis") or event.get("dynamodb") or {}).get("sequenceNumber")
               or (event.get("dynamodb") or {}).get("SequenceNumber"))


class StreamSource(Protocol):
    """Where a stream mapping reads from; one per service."""

    node: str  # the trace's name: "stream:clicks", "table:orders"
    key: tuple[str, str]  # the wake-up key of the moto hook
    batch_info_key: str  # "KinesisBatchInfo" | "DDBStreamBatchInfo"
    retention_s: float  # AWS seconds a record stays in the stream (MaximumRecordAge -1)

    def filter_view(self, record: dict) -> dict: ...  # what FilterCriteria patterns are matched against

    def shard_ids(self) -> list[str]: ...
    def first_seq(self, shard_id: str) -> int: ...  # the lowest sequence number ever in the shard
    def last_seq(self, shard_id: str) -> int: ...  # the highest so far (first_seq - 1 when empty)
    def read(self, shard_id: str, after: int, limit: int) -> list[StreamRecord]: ...


def epoch_seconds(value: Any) -> float:
    """A StartingPositionTimestamp as epoch seconds: boto3 sends a number; a datetime or ISO text also do."""
    if isinstance(value, datetime):
        return value.timestamp() if value.tzinfo else value.replace(tzinfo=UTC).timestamp()
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return epoch_seconds(datetime.fromisoformat(value))
    return float(value)


@dataclass
class ShardState:
    checkpoint: int  # the last sequence number done with (processed or given up on)
    in_flight: bool = False
    queue: deque = field(default_factory=deque)  # batches (after bisecting) to try before reading on
    attempts: int = 0  # failed attempts of the batch at the head of `queue`
    window_started: float | None = None


class ShardPoller(ThreadPoller):
    def __init__(self, cloud: Any, esm: Any, source: StreamSource) -> None:
        self.source = source
        self.key = source.key
        self.node = source.node
        self._lock = threading.Lock()
        self.shards: dict[str, ShardState] = {}
        self.esm = esm  # the starting position is read before the thread starts (super().__init__)
        self._attach_shards()
        super().__init__(cloud, esm, f"{self.node} → {esm.function_arn.split(':')[6]}")

    def _attach_shards(self) -> None:
        for shard_id in self.source.shard_ids():
            if shard_id not in self.shards:
                self.shards[shard_id] = ShardState(self._starting_checkpoint(shard_id))

    def _starting_checkpoint(self, shard_id: str) -> int:
        """Where `StartingPosition` puts a new shard's checkpoint (the last record counted as done)."""
        position = self.esm.starting_position or "TRIM_HORIZON"
        if position == "LATEST":
            return self.source.last_seq(shard_id)
        checkpoint = self.source.first_seq(shard_id) - 1
        if position == "AT_TIMESTAMP":  # skip what arrived before the timestamp (records are in arrival order)
            at = epoch_seconds(self.esm.starting_position_timestamp)
            while records := self.source.read(shard_id, checkpoint, DEFAULT_BATCH):
                earlier = [r for r in records if r.arrival < at]
                checkpoint = earlier[-1].seq if earlier else checkpoint
                if len(earlier) < len(records):
                    break
        return checkpoint

    # -- polling -------------------------------------------------------------------------------
    def step(self) -> float | None:
        self._attach_shards()
        next_look: float | None = None
        batch_size = int(self.esm.batch_size or DEFAULT_BATCH)
        window = self.cloud.clock.real(float(self.esm.max_batch_window or 0))
        for shard_id, state in list(self.shards.items()):
            with self._lock:
                if state.in_flight:
                    continue
                if state.queue:
                    batch = state.queue[0]
                else:
                    batch = self._filtered(state, self.source.read(shard_id, state.checkpoint, batch_size))
                    if not batch:
                        state.window_started = None
                        continue
                    if window > 0 and len(batch) < batch_size:
                        now = time.monotonic()
                        state.window_started = state.window_started or now
                        if state.window_started + window > now:
                            wait = state.window_started + window - now
                            next_look = wait if next_look is None else min(next_look, wait)
                            continue
                    state.window_started = None
                    state.queue.append(batch)
                state.in_flight = True
            self._invoke(shard_id, state, batch)
        return next_look

    def _filtered(self, state: ShardState, records: list[StreamRecord]) -> list[StreamRecord]:
        """Drop the records FilterCriteria do not match; Lambda skips them (the shard moves past them)."""
        passes = record_filter(self.esm, self.source.filter_view)
        kept = [r for r in records if passes(r.event)]
        if len(kept) == len(records):
            return kept
        cut = records.index(kept[-1]) + 1 if kept else len(records)  # later ones are looked at next time
        dropped = [r for r in records[:cut] if r not in kept]
        if not kept:
            state.checkpoint = max(state.checkpoint, records[-1].seq)
            self.cloud.scheduler.call_later(0, self.wake, f"filtered records of {self.node}")
        if dropped:
            self.cloud.trace.add(tr.DROP, self.cloud.clock.now(), self.node,
                                 f"function:{self.esm.function_arn.split(':')[6]}", outcome="filtered",
                                 event_ids=tuple(r.event_id for r in dropped), batch_size=len(dropped),
                                 error="no FilterCriteria pattern matches: Lambda skips the record")
        return kept

    def _pending(self) -> list[str]:
        labels = []
        for shard_id, state in list(self.shards.items()):
            if state.in_flight or state.queue or self.source.last_seq(shard_id) > state.checkpoint:
                labels.append(f"records waiting in {self.node} ({shard_id})")
        return labels

    def _invoke(self, shard_id: str, state: ShardState, batch: list[StreamRecord]) -> None:
        fn = self.function
        if fn is None:
            state.in_flight = False
            return
        payload = json.dumps({"Records": [r.event for r in batch]})
        throttled = self.cloud.runtime.start(
            fn, payload, source=self.node, invocation="poll", attempt=state.attempts + 1, batch_size=len(batch),
            event_ids=tuple(r.event_id for r in batch),
            on_done=lambda result: self._done(shard_id, state, batch, result))
        if throttled is not None:  # throttles do not use up attempts; offer the batch again shortly
            self._later(state, 1.0, f"throttled batch from {self.node}")

    def _later(self, state: ShardState, aws_delay: float, label: str) -> None:
        def again() -> None:
            with self._lock:
                state.in_flight = False
            self.wake()

        self.cloud.scheduler.call_later(self.cloud.clock.real(aws_delay), again, label)

    # -- results -------------------------------------------------------------------------------
    def _done(self, shard_id: str, state: ShardState, batch: list[StreamRecord], result: Result) -> None:
        failed_from: int | None = None  # index of the first record to retry
        reason: str | None = None
        if not result.ok:
            failed_from, reason = 0, (result.record.error if result.record else result.outcome)
        elif "ReportBatchItemFailures" in (self.esm.function_response_types or []):
            by_seq = {r.sequence_number: i for i, r in enumerate(batch)}
            failed, invalid = batch_failures(result, tuple(by_seq))
            if invalid is not None:
                failed_from, reason = 0, f"invalid partial batch response, the whole batch fails: {invalid}"
            elif failed:
                failed_from = min(by_seq[s] for s in failed)
                reason = f"partial batch response: checkpoint before sequence number {batch[failed_from].sequence_number}"
        with self._lock:
            if failed_from is None:
                self._advance(state, batch)
            else:
                self._failed(shard_id, state, batch, failed_from, result, reason or "error")
                return
            state.in_flight = False
        self.wake()

    def _advance(self, state: ShardState, batch: list[StreamRecord]) -> None:
        state.checkpoint = max(state.checkpoint, batch[-1].seq)
        if state.queue and state.queue[0] is batch:
            state.queue.popleft()
        state.attempts = 0

    def _failed(self, shard_id: str, state: ShardState, batch: list[StreamRecord], failed_from: int,
                result: Result, reason: str) -> None:
        """Called with the lock held: split, retry later, or give up on the batch."""
        done, rest = batch[:failed_from], batch[failed_from:]
        if state.queue and state.queue[0] is batch:
            state.queue.popleft()
        if done:
            state.checkpoint = max(state.checkpoint, done[-1].seq)
        if self.esm.bisect_on_error and not result.ok and len(rest) > 1:
            half = len(rest) // 2
            state.queue.appendleft(rest[half:])
            state.queue.appendleft(rest[:half])
            self._trace_retry(state, rest, result, f"{reason}; BisectBatchOnFunctionError splits the batch "
                                                   f"into {half} + {len(rest) - half}", 0.0)
            state.in_flight = False
            self.cloud.scheduler.call_later(0, self.wake, f"bisected batch from {self.node}")
            return
        state.attempts += 1
        retries = self.esm.max_retry_attempts
        retries = -1 if retries is None else int(retries)
        max_age = self.esm.max_record_age
        max_age = self.source.retention_s if max_age in (None, -1) else float(max_age)
        age = self.cloud.clock.aws(time.time() - rest[0].arrival)
        if retries != -1 and state.attempts > retries:
            self._give_up(shard_id, state, rest, result, "RetryAttemptsExhausted", reason)
        elif age > max_age:
            self._give_up(shard_id, state, rest, result, "RecordAgeExceeded", reason)
        else:
            state.queue.appendleft(rest)
            delay = min(RETRY_BACKOFF[1], RETRY_BACKOFF[0] * 2 ** (state.attempts - 1))
            self._trace_retry(state, rest, result, reason, delay)
            self._later(state, delay, f"retry of a batch from {self.node}")
            return
        state.in_flight = False
        self.cloud.scheduler.call_later(0, self.wake, f"next batch from {self.node}")

    def _trace_retry(self, state: ShardState, rest: list[StreamRecord], result: Result, reason: str,
                     delay: float) -> None:
        self.cloud.trace.add(
            tr.RETRY, self.cloud.clock.now(), self.node, f"function:{result.function}", function=result.function,
            request_id=result.request_id, attempt=state.attempts + 1, outcome=result.outcome, error=reason,
            event_ids=tuple(r.event_id for r in rest), batch_size=len(rest),
            detail={"delay_aws_s": delay, "blocks": "the shard until this batch succeeds or is given up"})

    def _give_up(self, shard_id: str, state: ShardState, rest: list[StreamRecord], result: Result,
                 condition: str, reason: str) -> None:
        state.checkpoint = max(state.checkpoint, rest[-1].seq)
        attempts, state.attempts = state.attempts, 0
        target = ((self.esm.destination_config or {}).get("OnFailure") or {}).get("Destination")
        ids = tuple(r.event_id for r in rest)
        now = self.cloud.clock.now()
        if target:
            document = failure_record(self.source.batch_info_key, self.esm, shard_id, rest, result, condition,
                                      attempts)
            self.cloud.async_invoker.sender.send(target, json.dumps(document), source=f"function:{result.function}")
            self.cloud.trace.add(tr.DEAD_LETTER, now, self.node, node_for_arn(target), function=result.function,
                                 request_id=result.request_id, attempt=attempts, outcome=condition, event_ids=ids,
                                 batch_size=len(ids), destination=node_for_arn(target), error=reason)
        else:
            self.cloud.trace.add(tr.DROP, now, self.node, f"function:{result.function}", function=result.function,
                                 request_id=result.request_id, attempt=attempts, outcome=condition, event_ids=ids,
                                 batch_size=len(ids),
                                 error=f"{condition}: no on-failure destination, Lambda skips these records")


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def failure_record(batch_info_key: str, esm: Any, shard_id: str, records: list[StreamRecord], result: Result,
                   condition: str, attempts: int) -> dict[str, Any]:
    """AWS's on-failure record for a stream batch: metadata to find the records, not the records."""
    response: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
    if not result.ok:
        response["functionError"] = "Unhandled"
    return {
        "requestContext": {
            "requestId": result.request_id or str(uuid.uuid4()),
            "functionArn": esm.function_arn,
            "condition": condition,
            "approximateInvokeCount": attempts,
        },
        "responseContext": response,
        "version": "1.0",
        "timestamp": _iso(time.time()),
        batch_info_key: {
            "shardId": shard_id,
            "startSequenceNumber": records[0].sequence_number,
            "endSequenceNumber": records[-1].sequence_number,
            "approximateArrivalOfFirstRecord": _iso(records[0].arrival),
            "approximateArrivalOfLastRecord": _iso(records[-1].arrival),
            "batchSize": len(records),
            "streamArn": esm.event_source_arn,
        },
    }
