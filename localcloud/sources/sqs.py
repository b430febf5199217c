"""SQS → Lambda: the event source mapping's poller, with AWS's batching, retry and DLQ rules.

AWS's rules (DESIGN.md): batches of up to `BatchSize` (default 10), optionally gathered for up to
`MaximumBatchingWindowInSeconds`; a batch that fails returns to the queue after the visibility
timeout with `ApproximateReceiveCount` one higher, and the queue's redrive policy moves it to the DLQ
at `maxReceiveCount`; with `ReportBatchItemFailures` only the reported messages return, and a
malformed response fails the whole batch. Messages are received through moto itself, so receive
counts, FIFO group locking and redrive are moto's (and the queue looks the same to any other
consumer); the visibility timeout is held for its classroom-scaled length, then the failed messages
are made visible again.

Concurrency follows AWS's scaling: five batches at first, up to 300 more per (classroom) minute
while messages remain, back to five once the queue is drained. Each batch holds a slot; when it
succeeds, a finishing thread deletes it and receives the slot's next batch (as each of Lambda's
pollers loops receive → invoke → delete) — one thread for all the batches finishing at that moment,
so slots do not queue on the queue lock — and the poller thread only opens slots and wakes on new
data and failures.
"""

from __future__ import annotations

import base64
import json
import math
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from moto.sqs import models as sqs_models
from moto.sqs.exceptions import QueueDoesNotExist

from .. import trace as tr
from ..runtime import Result
from .mappings import SQS_LOCK, ThreadPoller, record_filter, sqs_view

DEFAULT_BATCH = 10
# AWS's scaling (Lambda guide, "Configuring scaling behavior for SQS event source mappings"): a mapping
# starts with five concurrent batches, adds up to 300 more per minute while messages remain, never
# exceeds 1,000, and falls back to five once the queue is drained.
INITIAL_BATCHES = 5
SCALE_UP_PER_MINUTE = 300
DEFAULT_MAX_CONCURRENCY = 1000
THROTTLE_RETRY_S = 1.0  # AWS seconds before a throttled batch is offered to the function again


@dataclass
class Batch:
    messages: list[Any]  # moto Message copies, as received

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(m.id for m in self.messages)

    @property
    def attempt(self) -> int:
        return max(m.approximate_receive_count for m in self.messages)


def message_attributes(message: Any) -> dict[str, dict[str, Any]]:
    """Lambda's camelCase shape of SQS message attributes."""
    shaped: dict[str, dict[str, Any]] = {}
    for name, value in message.message_attributes.items():
        item: dict[str, Any] = {"stringListValues": [], "binaryListValues": [], "dataType": value["DataType"]}
        if value.get("StringValue") is not None:
            item["stringValue"] = value["StringValue"]
        binary = value.get("BinaryValue")
        if binary is not None:
            item["binaryValue"] = base64.b64encode(binary).decode() if isinstance(binary, bytes) else binary
        shaped[name] = item
    return shaped


def record(message: Any, queue_arn: str, region: str) -> dict[str, Any]:
    """One message as Lambda's SQS event record, with the message's real attributes."""
    attributes = {
        "ApproximateReceiveCount": str(message.approximate_receive_count),
        "SentTimestamp": str(message.sent_timestamp),
        "SenderId": message.sender_id,
        "ApproximateFirstReceiveTimestamp": str(message.approximate_first_receive_timestamp),
    }
    if message.group_id is not None:
        attributes["SequenceNumber"] = str(message.sequence_number)
        attributes["MessageGroupId"] = message.group_id
        if message.deduplication_id:
            attributes["MessageDeduplicationId"] = message.deduplication_id
    return {
        "messageId": message.id,
        "receiptHandle": message.receipt_handle,
        "body": message.body,
        "attributes": attributes,
        "messageAttributes": message_attributes(message),
        "md5OfMessageAttributes": message.attribute_md5 if message.message_attributes else None,
        "md5OfBody": message.body_md5,
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def batch_failures(result: Result, ids: tuple[str, ...]) -> tuple[set[str], str | None]:
    """Which messages failed, by AWS's rules for a `ReportBatchItemFailures` response.

    Returns (failed ids, reason). A reason means the whole batch failed because the response
    itself was invalid: not a JSON object, `batchItemFailures` not a list, or an `itemIdentifier`
    that is missing, empty or not in the batch.
    """
    try:
        response = json.loads(result.payload) if result.payload else None
    except ValueError:
        return set(ids), "the response is not valid JSON"
    if response is None:
        return set(), None
    if not isinstance(response, dict):
        return set(ids), f"the response {result.payload[:60]} is not a JSON object with batchItemFailures"
    failures = response.get("batchItemFailures")
    if failures is None:
        return set(), None
    if not isinstance(failures, list):
        return set(ids), "batchItemFailures is not a list"
    failed: set[str] = set()
    for item in failures:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(identifier, str) or not identifier:
            return set(ids), f"batchItemFailures entry {json.dumps(item)[:60]} has no itemIdentifier"
        if identifier not in ids:
            return set(ids), f"itemIdentifier {identifier!r} is not a message of this batch"
        failed.add(identifier)
    return failed, None


class SqsPoller(ThreadPoller):
    """One mapping's poller: receives through moto, invokes, deletes or returns messages."""

    def __init__(self, cloud: Any, esm: Any) -> None:
        self.queue_name = esm.event_source_arn.split(":")[5]
        self.key = ("sqs", self.queue_name)
        self.node = f"queue:{self.queue_name}"
        self._count_lock = threading.Lock()
        self.in_flight = 0
        self._backlog_since: float | None = None  # monotonic time all slots were first found busy with messages left
        self._window_started: float | None = None
        self._succeeded: deque[Batch] = deque()  # done without failures: to delete, and their slots to refill
        self._finishing = threading.Lock()  # held by the one thread doing that (see _finish_succeeded)
        super().__init__(cloud, esm, f"{self.node} → {esm.function_arn.split(':')[6]}")

    # -- moto ----------------------------------------------------------------------------------
    @property
    def backend(self) -> Any:
        return sqs_models.sqs_backends[self.esm.account_id][self.esm.region]

    def _queue(self) -> Any | None:
        return self.backend.queues.get(self.queue_name)

    def _visible(self, queue: Any) -> int:
        with SQS_LOCK:
            return len(queue.messages)

    def _next_due(self, queue: Any) -> float | None:
        """Real seconds until a message now hidden or delayed can be received (wake then)."""
        now_ms = time.time() * 1000
        with SQS_LOCK:
            dues = [max(m.visible_at, m.delayed_until) for m in queue._messages]
        later = [due for due in dues if due > now_ms]
        return (min(later) - now_ms) / 1000 + 0.001 if later else None

    # -- polling -------------------------------------------------------------------------------
    def _cap(self, fn: Any) -> int:
        cap = int((self.esm.scaling_config or {}).get("MaximumConcurrency") or DEFAULT_MAX_CONCURRENCY)
        return min(cap, fn.reserved) if fn.reserved is not None else cap

    def _minute(self) -> float:
        return self.cloud.clock.real(60.0)

    def _target(self, fn: Any) -> int:
        """Concurrent batches allowed now: AWS's ramp, within MaximumConcurrency and reserved concurrency."""
        since = self._backlog_since
        minutes = 0 if since is None else int((time.monotonic() - since) / self._minute())
        return min(self._cap(fn), INITIAL_BATCHES + SCALE_UP_PER_MINUTE * minutes)

    def _next_scale_up(self, fn: Any) -> float | None:
        """All slots are busy and messages remain: real seconds until the ramp allows more."""
        if self._target(fn) >= self._cap(fn):
            return None  # a finishing batch wakes the poller
        now = time.monotonic()
        if self._backlog_since is None:
            self._backlog_since = now
        minute = self._minute()
        return minute - (now - self._backlog_since) % minute

    def _claim(self, fn: Any) -> bool:
        """Take one of the mapping's concurrent batch slots, before receiving (never more than allowed)."""
        with self._count_lock:
            if self.in_flight >= self._target(fn):
                return False
            self.in_flight += 1
            return True

    def _unclaim(self) -> None:
        with self._count_lock:
            self.in_flight -= 1

    def _hold(self, queue: Any, fn: Any) -> int:
        """AWS hides a received batch for the queue's visibility timeout (at least the function's timeout)."""
        return max(int(queue.visibility_timeout or 30), math.ceil(float(fn.config.timeout)), 1)

    def _receive_into_slot(self, queue: Any, fn: Any) -> tuple[bool, bool]:
        """Receive one batch into a claimed slot and start it: (anything received, batch started).

        The slot is given back when nothing is started (nothing received, the filter dropped all, or
        moto failed); once `_dispatch` has the batch, the slot is the batch's.
        """
        handed_over = False
        try:
            messages = self.backend.receive_message(self.queue_name, int(self.esm.batch_size or DEFAULT_BATCH), 0,
                                                    self._hold(queue, fn), ["All"])
            if not messages:
                self._backlog_since = None  # drained: the next burst starts again from five batches
            kept = self._filtered(queue, messages) if messages else messages
            if kept:
                handed_over = True
                self._dispatch(Batch(kept))
        finally:
            if not handed_over:
                self._unclaim()
        return bool(messages), handed_over

    def step(self) -> float | None:
        queue, fn = self._queue(), self.function
        if queue is None or fn is None:
            return None
        batch_size = int(self.esm.batch_size or DEFAULT_BATCH)
        window = self.cloud.clock.real(float(self.esm.max_batch_window or 0))
        while self.enabled:
            if self.in_flight >= self._target(fn):
                return self._next_scale_up(fn) if self._visible(queue) else None
            if window > 0:
                visible = self._visible(queue)
                if visible == 0:
                    self._window_started = None
                    return self._next_due(queue)
                if visible < batch_size:
                    now = time.monotonic()
                    self._window_started = self._window_started or now
                    if self._window_started + window > now:
                        return self._window_started + window - now
            if not self._claim(fn):  # a finishing batch took the last slot meanwhile
                continue
            self._window_started = None
            received, _ = self._receive_into_slot(queue, fn)
            if not received:
                return self._next_due(queue)
        return None

    def _refill(self) -> bool:
        """A finished batch's slot takes the next batch itself, as an AWS poller loops receive → invoke.

        This runs on a thread that just finished a batch (see `_finish_succeeded`); its own slot's
        next batch lands on its own environment, so a backlog drains without a hand-off to the poller
        thread and back per batch (issue 3's throughput). The finished batch's slot is still held, so
        the poller thread cannot open a slot meanwhile; it is used again or given back here. Batching
        windows stay with the poller thread.
        """
        queue, fn = self._queue(), self.function
        if (queue is None or fn is None or not self.enabled or self.esm.max_batch_window
                or self.in_flight > self._target(fn)):  # the cap was lowered: this slot closes
            self._unclaim()
            return False
        try:
            return self._receive_into_slot(queue, fn)[1]  # a filtered-out batch frees the slot: the poller decides
        except BaseException as exc:  # noqa: BLE001 - reported by cloud.wait(); the poller thread carries on
            self.cloud._background_error(exc)
            return False

    def _filtered(self, queue: Any, messages: list[Any]) -> list[Any]:
        """AWS deletes the messages a mapping's FilterCriteria do not match (it never invokes for them)."""
        if not (self.esm.filter_criteria or {}).get("Filters"):
            return messages  # no filter: nothing to build records for twice
        passes = record_filter(self.esm, sqs_view)
        kept = [m for m in messages if passes(record(m, queue.queue_arn, self.esm.region))]
        dropped = [m for m in messages if m not in kept]
        self._delete(dropped)
        if dropped:
            self.cloud.trace.add(tr.DROP, self.cloud.clock.now(), self.node, f"function:{self.esm.function_arn.split(':')[6]}",
                                 outcome="filtered", event_ids=tuple(m.id for m in dropped), batch_size=len(dropped),
                                 error="no FilterCriteria pattern matches: the mapping deletes the message")
        return kept

    def _pending(self) -> list[str]:
        if self.in_flight:
            return [f"{self.in_flight} batch(es) in flight from {self.node}"]
        queue = self._queue()
        if queue is not None and queue._messages:
            return [f"{len(queue._messages)} message(s) waiting in {self.node}"]
        return []

    def _dispatch(self, batch: Batch) -> None:
        fn = self.function
        queue = self._queue()
        if fn is None or queue is None:
            self._unclaim()  # deleted meanwhile: the messages come back after their visibility timeout
            return
        event = {"Records": [record(m, queue.queue_arn, self.esm.region) for m in batch.messages]}  # fresh: no copy
        throttled = self.cloud.runtime.start(
            fn, event, source=self.node, invocation="poll", on_done=lambda result: self._done(batch, result),
            attempt=batch.attempt, batch_size=len(batch.messages), event_ids=batch.ids, refills=True)
        if throttled is not None:  # the messages stay in flight; Lambda offers them again shortly
            self.cloud.scheduler.call_later(self.cloud.clock.real(THROTTLE_RETRY_S),
                                            lambda: self._retry_throttled(batch), f"throttled batch from {self.node}")

    def _retry_throttled(self, batch: Batch) -> None:
        self._dispatch(batch)  # the batch keeps its slot meanwhile

    # -- results -------------------------------------------------------------------------------
    def _done(self, batch: Batch, result: Result) -> None:
        ids = batch.ids
        reason: str | None = None
        if not result.ok:
            failed, reason = set(ids), (result.record.error if result.record else result.outcome)
        elif "ReportBatchItemFailures" in (self.esm.function_response_types or []):
            failed, reason = batch_failures(result, ids)
            if failed and reason is None:
                reason = "reported in batchItemFailures"
            elif reason is not None:
                reason = f"invalid partial batch response, the whole batch fails: {reason}"
        else:
            failed = set()
        if failed:
            self._delete([m for m in batch.messages if m.id not in failed])
            self._unclaim()
            self._return_later([m for m in batch.messages if m.id in failed], result, reason)
            self.wake()
            return
        self._succeeded.append(batch)
        self._finish_succeeded()

    def _finish_succeeded(self) -> None:
        """Delete every succeeded batch and refill its slot, on whichever finishing thread gets there first.

        Slots finishing together would otherwise queue on the queue lock one by one, each wait a
        thread switch; instead one thread deletes them all and receives their next batches, and the
        others return at once. A thread that finds the work taken leaves its batch to that thread,
        which looks again after letting go.
        """
        while self._succeeded:
            if not self._finishing.acquire(blocking=False):
                return  # the thread finishing now sees this batch after it lets go
            try:
                batches = []
                while self._succeeded:
                    batches.append(self._succeeded.popleft())
                try:
                    self._delete([m for batch in batches for m in batch.messages])
                except Exception as exc:  # noqa: BLE001 - reported by cloud.wait(); the slots go on
                    self.cloud._background_error(exc)
                refilled = sum(self._refill() for _ in batches)
            finally:
                self._finishing.release()
            if refilled < len(batches):
                self.wake()

    def _delete(self, messages: list[Any]) -> None:
        """DeleteMessageBatch, as Lambda's poller does: one hold of the queue lock and one pass for the batch."""
        if not messages:
            return
        entries = [{"Id": str(i), "ReceiptHandle": m.receipt_handle} for i, m in enumerate(messages)]
        try:  # a handle the handler already deleted is not an error (moto remembers deleted handles)
            self.backend.delete_message_batch(self.queue_name, entries)
        except QueueDoesNotExist:  # deleted meanwhile: nothing left to delete from
            pass

    def _return_later(self, messages: list[Any], result: Result, reason: str | None) -> None:
        queue = self._queue()
        vt = int(queue.visibility_timeout or 30) if queue is not None else 30
        ids = tuple(m.id for m in messages)
        self.cloud.trace.add(
            tr.RETRY, self.cloud.clock.now(), self.node, f"function:{result.function}", function=result.function,
            request_id=result.request_id, attempt=max(m.approximate_receive_count for m in messages) + 1,
            outcome=result.outcome, error=reason, event_ids=ids, batch_size=len(ids),
            detail={"visibility_timeout_aws_s": vt, "returns": "to the queue after the visibility timeout"})

        def restore() -> None:
            for message in messages:
                try:
                    self.backend.change_message_visibility(self.queue_name, message.receipt_handle, 0)
                except Exception:  # noqa: BLE001 - deleted meanwhile (by the handler or a purge)
                    pass
            self.wake()

        self.cloud.scheduler.call_later(self.cloud.clock.real(vt), restore,
                                        f"{len(messages)} message(s) returning to {self.node}")


def poller(cloud: Any, esm: Any) -> SqsPoller:
    return SqsPoller(cloud, esm)
