"""SQS → Lambda: the event source mapping's poller, with AWS's batching, retry and DLQ rules.

AWS's rules (DESIGN.md): batches of up to `BatchSize` (default 10), optionally gathered for up to
`MaximumBatchingWindowInSeconds`; a batch that fails returns to the queue after the visibility
timeout with `ApproximateReceiveCount` one higher, and the queue's redrive policy moves it to the DLQ
at `maxReceiveCount`; with `ReportBatchItemFailures` only the reported messages return, and a
malformed response fails the whole batch. Messages are received through moto itself, so receive
counts, FIFO group locking and redrive are moto's (and the queue looks the same to any other
consumer); the visibility timeout is held for its classroom-scaled length, then the failed messages
are made visible again.
"""

from __future__ import annotations

import base64
import json
import math
import threading
import time
from dataclasses import dataclass
from typing import Any

from moto.sqs import models as sqs_models

from .. import trace as tr
from ..runtime import Result
from .mappings import SQS_LOCK, ThreadPoller, record_filter, sqs_view

DEFAULT_BATCH = 10
DEFAULT_MAX_CONCURRENCY = 1000  # AWS scales an SQS mapping up to 1,000 concurrent batches
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
        self._window_started: float | None = None
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

    def step(self) -> float | None:
        queue, fn = self._queue(), self.function
        if queue is None or fn is None:
            return None
        batch_size = int(self.esm.batch_size or DEFAULT_BATCH)
        window = self.cloud.clock.real(float(self.esm.max_batch_window or 0))
        hold = max(int(queue.visibility_timeout or 30), math.ceil(float(fn.config.timeout)), 1)
        while self.enabled and self.in_flight < self._cap(fn):
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
            messages = self.backend.receive_message(self.queue_name, batch_size, 0, hold, ["All"])
            self._window_started = None
            if not messages:
                return self._next_due(queue)
            messages = self._filtered(queue, messages)
            if messages:
                self._dispatch(Batch(messages))
        return None

    def _filtered(self, queue: Any, messages: list[Any]) -> list[Any]:
        """AWS deletes the messages a mapping's FilterCriteria do not match (it never invokes for them)."""
        if not (self.esm.filter_criteria or {}).get("Filters"):
            return messages  # no filter: nothing to build records for twice
        passes = record_filter(self.esm, sqs_view)
        kept = [m for m in messages if passes(record(m, queue.queue_arn, self.esm.region))]
        dropped = [m for m in messages if m not in kept]
        for message in dropped:
            self._delete(message)
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
            return
        payload = json.dumps({"Records": [record(m, queue.queue_arn, self.esm.region) for m in batch.messages]})
        with self._count_lock:
            self.in_flight += 1
        throttled = self.cloud.runtime.start(
            fn, payload, source=self.node, invocation="poll", on_done=lambda result: self._done(batch, result),
            attempt=batch.attempt, batch_size=len(batch.messages), event_ids=batch.ids)
        if throttled is not None:  # the messages stay in flight; Lambda offers them again shortly
            self.cloud.scheduler.call_later(self.cloud.clock.real(THROTTLE_RETRY_S),
                                            lambda: self._retry_throttled(batch), f"throttled batch from {self.node}")

    def _retry_throttled(self, batch: Batch) -> None:
        with self._count_lock:
            self.in_flight -= 1
        self._dispatch(batch)

    # -- results -------------------------------------------------------------------------------
    def _done(self, batch: Batch, result: Result) -> None:
        with self._count_lock:
            self.in_flight -= 1
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
        with SQS_LOCK:  # one hold for the batch (as DeleteMessageBatch): no queueing behind a receive per message
            for message in batch.messages:
                if message.id not in failed:
                    self._delete(message)
        if failed:
            self._return_later([m for m in batch.messages if m.id in failed], result, reason)
        self.wake()

    def _delete(self, message: Any) -> None:
        try:
            self.backend.delete_message(self.queue_name, message.receipt_handle)
        except Exception:  # noqa: BLE001 - queue gone or the handler deleted it itself: nothing to do
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
