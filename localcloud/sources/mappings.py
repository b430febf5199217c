"""Event source mappings: created through Lambda's real API, delivered by our pollers, not moto's.

moto keeps each mapping's record (so get / list / update answer as AWS does) but its own trigger
calls the handler synchronously inside `send_message` / `put_record`, one record at a time and never
retried. These hooks let moto create the record, then take the mapping out of the queue's, stream's
or table's trigger list (no double delivery) and start a poller with AWS's rules instead. They also
add the validation AWS does and moto does not, and wake pollers the moment data arrives: the
pollers sleep on a condition, never on a timer, so send → handler start stays in milliseconds.

This module (with the moto calls in `sqs.py` / `streams.py`) is the only place pollers touch moto.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from typing import Any, Protocol

from moto.awslambda import models as lambda_models
from moto.core.exceptions import JsonRESTError
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models import table as ddb_table
from moto.kinesis import models as kinesis_models
from moto.sqs import models as sqs_models

from .. import motoadapter

SQS_LOCK = threading.RLock()  # moto's SQS queue is not thread-safe: one writer at a time
_receiving = threading.local()  # which queue a receive is reading, so redrives can be traced


class InvalidParameterValue(JsonRESTError):
    code = 400

    def __init__(self, message: str) -> None:
        super().__init__("InvalidParameterValueException", message)


class ResourceNotFound(JsonRESTError):
    code = 404

    def __init__(self, message: str) -> None:
        super().__init__("ResourceNotFoundException", message)


class Poller(Protocol):
    """What the manager needs from a source's poller."""

    key: tuple[str, str]

    def wake(self) -> None: ...
    def reconfigure(self) -> None: ...
    def stop(self) -> None: ...
    def pending(self) -> list[str]: ...


# -- a poller's thread ---------------------------------------------------------------------------
class ThreadPoller:
    """A thread that sleeps until woken (new data, a finished batch, a due retry) and then steps.

    Subclasses implement `step()` (return the real seconds until they next need a look, or None) and
    `_pending()`. While a wake-up is unhandled or a step runs, the poller reports itself pending, so
    `cloud.wait()` never returns between a send and the invocation it causes.
    """

    key: tuple[str, str]

    def __init__(self, cloud: Any, esm: Any, label: str) -> None:
        self.cloud, self.esm, self.label = cloud, esm, label
        self._cond = threading.Condition()
        self._dirty = True
        self._busy = False
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name=f"localcloud-poller-{label}", daemon=True)
        self._thread.start()

    @property
    def function(self) -> Any:
        return self.cloud.runtime.get(self.esm.function_arn)

    @property
    def enabled(self) -> bool:
        return bool(self.esm.enabled) and not self._stopped

    def wake(self) -> None:
        with self._cond:
            self._dirty = True
            self._cond.notify()

    def reconfigure(self) -> None:
        self.wake()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()

    def pending(self) -> list[str]:
        if not self.enabled or self.function is None:
            return []
        with self._cond:
            if self._dirty or self._busy:
                return [f"poller {self.label}"]
        return self._pending()

    def _pending(self) -> list[str]:
        return []

    def step(self) -> float | None:
        raise NotImplementedError

    def _run(self) -> None:
        from ..runtime_context import mark_system_thread

        mark_system_thread()
        timeout: float | None = None
        while True:
            with self._cond:
                if not self._dirty and not self._stopped:
                    self._cond.wait(timeout)
                if self._stopped:
                    return
                self._dirty = False
                self._busy = True
            try:
                timeout = self.step() if self.enabled and self.function is not None else None
            except BaseException as exc:  # noqa: BLE001 - reported by cloud.wait(), the poller lives on
                self.cloud._background_error(exc)
                timeout = None
            finally:
                with self._cond:
                    self._busy = False
                self.cloud.work.poke()


# -- the registry ------------------------------------------------------------------------------
class MappingManager:
    """One per `Cloud`: the running pollers, keyed by mapping UUID."""

    def __init__(self, cloud: Any, factories: dict[str, Callable[[Any, Any], Poller]],
                 installers: tuple[Callable[[], None], ...] = ()) -> None:
        self.cloud = cloud
        self._factories = factories
        self._pollers: dict[str, Poller] = {}
        self._lock = threading.Lock()
        cloud.work.add_probe(self.pending)
        install_hooks()
        for install in installers:
            install()
        global _manager
        _manager = weakref.ref(self)

    def created(self, esm: Any) -> None:
        service = esm._get_service_source_from_arn().split("-")[0]
        factory = self._factories.get(service)
        if factory is None:
            return
        poller = factory(self.cloud, esm)
        with self._lock:
            self._pollers[esm.uuid] = poller

    def updated(self, esm: Any) -> None:
        with self._lock:
            poller = self._pollers.get(esm.uuid)
        if poller is not None:
            poller.reconfigure()

    def deleted(self, uuid: str) -> None:
        with self._lock:
            poller = self._pollers.pop(uuid, None)
        if poller is not None:
            poller.stop()

    def wake(self, key: tuple[str, str]) -> None:
        with self._lock:
            pollers = [p for p in self._pollers.values() if p.key == key]
        for poller in pollers:
            poller.wake()

    def pending(self) -> list[str]:
        with self._lock:
            pollers = list(self._pollers.values())
        labels: list[str] = []
        for poller in pollers:
            labels.extend(poller.pending())
        return labels

    def redriven(self, source: Any, dlq: Any, message: Any) -> None:
        """moto moved `message` from queue `source` to its DLQ while receiving: make that visible."""
        from .. import trace as tr

        with self._lock:
            functions = [p.function.name for p in self._pollers.values()
                         if p.key == ("sqs", source.name) and p.function is not None]
        self.cloud.trace.add(
            tr.DEAD_LETTER, self.cloud.clock.now(), f"queue:{source.name}", f"queue:{dlq.name}",
            function=functions[0] if functions else None, event_ids=(message.id,),
            attempt=message.approximate_receive_count, outcome="maxReceiveCount",
            destination=f"queue:{dlq.name}",
            error=f"received {message.approximate_receive_count} times (maxReceiveCount "
                  f"{(source.redrive_policy or {}).get('maxReceiveCount')}): moved to the dead-letter queue")

    def stop(self) -> None:
        with self._lock:
            pollers = list(self._pollers.values())
            self._pollers.clear()
        for poller in pollers:
            poller.stop()

    def close(self) -> None:
        global _manager
        self.stop()
        self.cloud.work.remove_probe(self.pending)
        if _manager is not None and _manager() is self:
            _manager = None


_manager: weakref.ref[MappingManager] | None = None


def manager() -> MappingManager | None:
    return _manager() if _manager is not None else None


# -- FilterCriteria ------------------------------------------------------------------------------
def record_filter(esm: Any, view: Callable[[dict], dict]) -> Callable[[dict], bool]:
    """The mapping's `FilterCriteria` as a predicate on an event record (no filters: everything passes).

    AWS matches each pattern (EventBridge's syntax) against the record, with the SQS `body` or the
    Kinesis `data` parsed as JSON when it is JSON; a record passes if any pattern matches. moto's
    EventBridge pattern matcher does the matching, so the syntax is the one students use there.
    """
    from moto.events.models import EventPattern

    filters = ((esm.filter_criteria or {}).get("Filters") or [])
    patterns = [EventPattern.load(f["Pattern"]) for f in filters if f.get("Pattern")]
    if not patterns:
        return lambda record: True
    return lambda record: any(p.matches_event(view(record)) for p in patterns)


def _json_or_text(text: str) -> Any:
    import json

    try:
        return json.loads(text)
    except ValueError:
        return text


def sqs_view(record: dict) -> dict:
    return {**record, "body": _json_or_text(record["body"])}


def kinesis_view(record: dict) -> dict:
    import base64

    data = base64.b64decode(record["kinesis"]["data"]).decode(errors="replace")
    return {**record, "data": _json_or_text(data), "kinesis": {**record["kinesis"], "data": _json_or_text(data)}}


# -- validation AWS does and moto does not --------------------------------------------------------
SQS_MAX_BATCH, SQS_FIFO_MAX_BATCH, STREAM_MAX_BATCH = 10_000, 10, 10_000


def _find_queue(account: str, region: str, arn: str) -> Any | None:
    for queue in sqs_models.sqs_backends[account][region].queues.values():
        if queue.queue_arn == arn:
            return queue
    return None


def _validate(backend: Any, spec: dict[str, Any], esm: Any | None = None) -> None:
    arn = spec.get("EventSourceArn") or (esm.event_source_arn if esm else "")
    service = arn.split(":")[2] if arn.count(":") >= 5 else ""
    batch = spec.get("BatchSize")
    window = spec.get("MaximumBatchingWindowInSeconds")
    if service == "sqs":
        queue = _find_queue(backend.account_id, backend.region_name, arn)
        if queue is None:
            raise ResourceNotFound(f"Error occurred while ReceiveMessage. SQS Error Code: "
                                   f"AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The "
                                   f"specified queue does not exist: {arn}")
        fifo = arn.endswith(".fifo")
        limit = SQS_FIFO_MAX_BATCH if fifo else SQS_MAX_BATCH
        if batch is not None and not 1 <= int(batch) <= limit:
            raise InvalidParameterValue(
                f"1 validation error detected: Value {batch} at 'batchSize' failed to satisfy constraint: "
                f"Member must have value less than or equal to {limit}" + (" for SQS FIFO queues" if fifo else ""))
        if fifo and window:
            raise InvalidParameterValue("Batching window is not supported for FIFO queues")
        effective_window = window if window is not None else (esm.max_batch_window if esm else None)
        if batch is not None and int(batch) > 10 and not effective_window:
            raise InvalidParameterValue("Maximum batch window in seconds must be greater than 0 if maximum "
                                        "batch size is greater than 10")
        name = spec.get("FunctionName") or (esm.function_arn if esm else None)
        if name:
            try:
                fn = backend.get_function(name)
            except Exception:  # noqa: BLE001 - moto raises its own not-found error below
                fn = None
            vt = int(queue.visibility_timeout or 30)
            if fn is not None and vt < float(fn.timeout):
                raise InvalidParameterValue(f"Queue visibility timeout: {vt} seconds is less than Function "
                                            f"timeout: {fn.timeout} seconds")
        concurrency = (spec.get("ScalingConfig") or {}).get("MaximumConcurrency")
        if concurrency is not None and not 2 <= int(concurrency) <= 1000:
            raise InvalidParameterValue("MaximumConcurrency must be between 2 and 1000")
    elif service in ("kinesis", "dynamodb"):
        if esm is None and not _stream_exists(backend, service, arn):
            raise ResourceNotFound(f"Stream not found: {arn}")
        if batch is not None and not 1 <= int(batch) <= STREAM_MAX_BATCH:
            raise InvalidParameterValue(
                f"1 validation error detected: Value {batch} at 'batchSize' failed to satisfy constraint: "
                f"Member must have value less than or equal to {STREAM_MAX_BATCH}")
        if esm is None and spec.get("StartingPosition") not in ("TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"):
            raise InvalidParameterValue("1 validation error detected: Value null at 'startingPosition' failed "
                                        "to satisfy constraint: Member must not be null")
        if esm is None and spec.get("StartingPosition") == "AT_TIMESTAMP":
            if service == "dynamodb":
                raise InvalidParameterValue(f"Unsupported starting position for arn type: {arn} "
                                            "(DynamoDB streams start at TRIM_HORIZON or LATEST)")
            if spec.get("StartingPositionTimestamp") is None:
                raise InvalidParameterValue("StartingPositionTimestamp is required when StartingPosition is "
                                            "AT_TIMESTAMP")
        retries = spec.get("MaximumRetryAttempts")
        if retries is not None and not -1 <= int(retries) <= 10_000:
            raise InvalidParameterValue("MaximumRetryAttempts must be between -1 and 10000")
        age = spec.get("MaximumRecordAgeInSeconds")
        if age is not None and int(age) != -1 and not 60 <= int(age) <= 604_800:
            raise InvalidParameterValue("MaximumRecordAgeInSeconds must be -1 or between 60 and 604800")
    elif esm is None and arn:
        raise ResourceNotFound(f"Invalid EventSourceArn: {arn}")


def _stream_exists(backend: Any, service: str, arn: str) -> bool:
    if service == "kinesis":
        streams = kinesis_models.kinesis_backends[backend.account_id][backend.region_name].streams.values()
        return any(s.arn == arn for s in streams)
    return table_for_stream(backend.account_id, backend.region_name, arn) is not None


def table_for_stream(account: str, region: str, stream_arn: str) -> Any | None:
    for table in dynamodb_backends[account][region].tables.values():
        label = table.latest_stream_label
        if label and f"{table.table_arn}/stream/{label}" == stream_arn and table.stream_shard is not None:
            return table
    return None


def _detach_moto_trigger(esm: Any) -> None:
    """moto wired the mapping into its synchronous trigger: take it out (we deliver instead)."""
    account, region = esm.account_id, esm.region
    service = esm._get_service_source_from_arn().split("-")[0]
    if service == "sqs":
        queue = _find_queue(account, region, esm.event_source_arn)
        if queue is not None:
            queue.lambda_event_source_mappings.pop(esm.function_arn, None)
    elif service == "kinesis":
        for stream in kinesis_models.kinesis_backends[account][region].streams.values():
            stream.lambda_event_source_mappings.pop(esm.event_source_arn, None)
    elif service == "dynamodb":
        table = table_for_stream(account, region, esm.event_source_arn)
        if table is not None:
            table.lambda_event_source_mappings.pop(esm.function_arn, None)


# -- moto hooks ----------------------------------------------------------------------------------
_orig: dict[str, Callable] = {}


def _create_esm(self, spec):
    if manager() is not None:
        _validate(self, spec)
    esm = _orig["create"](self, spec)
    _detach_moto_trigger(esm)
    current = manager()
    if current is not None:
        current.created(esm)
    return esm


def _update_esm(self, uuid, spec):
    esm = self.get_event_source_mapping(uuid)
    if esm is not None and manager() is not None:
        _validate(self, spec, esm)
    result = _orig["update"](self, uuid, spec)
    current = manager()
    if result is not None and current is not None:
        current.updated(result)
    return result


def _delete_esm(self, uuid):
    result = _orig["delete"](self, uuid)
    current = manager()
    if result is not None and current is not None:
        current.deleted(uuid)
    return result


_fifo_sequence = iter(range(10**19, 10**20))


def _add_message(self, message):
    with SQS_LOCK:
        if self.fifo_queue and message.group_id is not None:
            message.sequence_number = str(next(_fifo_sequence))  # AWS's are increasing per queue
        source = getattr(_receiving, "queue", None)
        _orig["add_message"](self, message)
    current = manager()
    if current is not None:
        if source is not None and source is not self:
            current.redriven(source, self, message)
        current.wake(("sqs", self.name))


def _remove_received(queue, handles: set[str]) -> set[str]:
    """Delete the messages holding any of `handles`, in one pass from the front, in place.

    Received messages sit at the front, so the pass stops early. moto scans every message twice per
    delete and rebuilds the list, which costs O(depth) per message and can drop a message appended by
    a concurrent send; this keeps moto's semantics (old receipt handles work, a deleted handle may be
    deleted again). Returns the handles that matched no message.
    """
    with SQS_LOCK:
        wanted = handles - queue.deleted_messages
        found = []
        for index, message in enumerate(queue._messages):
            if not wanted:
                break
            if message.receipt_handle in wanted or (message._old_receipt_handles
                                                    and wanted.intersection(message._old_receipt_handles)):
                found.append(index)
                wanted.difference_update(message.all_receipt_handles)
        for index in reversed(found):
            message = queue._messages.pop(index)
            queue.pending_messages.discard(message)
            queue.deleted_messages.update(message.all_receipt_handles)
        return wanted


def _delete_message(self, receipt_handle):
    if _remove_received(self, {receipt_handle}):
        raise sqs_models.ReceiptHandleIsInvalid()


def _delete_message_batch(self, queue_name, receipts):
    """DeleteMessageBatch in one pass (pollers delete each finished batch this way, as Lambda does).

    The answer is moto's: successful Ids in request order, and moto's error entry for a receipt
    handle that matches no message.
    """
    unmatched = _remove_received(self.get_queue(queue_name), {entry["ReceiptHandle"] for entry in receipts})
    success = [entry["Id"] for entry in receipts if entry["ReceiptHandle"] not in unmatched]
    errors = [{"Id": entry["Id"], "SenderFault": True, "Code": "ReceiptHandleIsInvalid",
               "Message": f'The input receipt handle "{entry["ReceiptHandle"]}" is not a valid receipt handle.'}
              for entry in receipts if entry["ReceiptHandle"] in unmatched]
    return success, errors


def _retention_ok(self, queue_name, message):
    """moto computes every queue attribute (an O(depth) count) to read one: read it directly."""
    retention = int(self.get_queue(queue_name).message_retention_period or 345_600)
    return retention + message.sent_timestamp / 1000 > time.time()


def _unix_time(dt=None):
    return time.time() if dt is None else _orig["unix_time"](dt)


def _unix_time_millis(dt=None):
    return time.time() * 1000.0 if dt is None else _orig["unix_time_millis"](dt)


def _receive_message(self, queue_name, count, wait_seconds_timeout, visibility_timeout,
                     message_attribute_names=None):
    if wait_seconds_timeout:  # a long poll waits on moto's own condition: do not hold the lock
        return _orig["receive_message"](self, queue_name, count, wait_seconds_timeout, visibility_timeout,
                                        message_attribute_names)
    with SQS_LOCK:
        _receiving.queue = self.get_queue(queue_name)
        try:
            return _orig["receive_message"](self, queue_name, count, 0, visibility_timeout,
                                            message_attribute_names)
        finally:
            _receiving.queue = None


def _change_visibility(self, queue_name, receipt_handle, visibility_timeout):
    with SQS_LOCK:
        result = _orig["change_visibility"](self, queue_name, receipt_handle, visibility_timeout)
    current = manager()
    if current is not None and not visibility_timeout:
        current.wake(("sqs", queue_name))
    return result


def _kinesis_put_record(self, partition_key, explicit_hash_key, data):
    result = _orig["kinesis_put"](self, partition_key, explicit_hash_key, data)
    current = manager()
    if current is not None:
        current.wake(("kinesis", self.stream_name))
    return result


def _ddb_stream_add(self, old, new):
    _orig["ddb_add"](self, old, new)
    current = manager()
    if current is not None:
        current.wake(("dynamodb", self.table.name))


def install_hooks() -> None:
    """Patch moto once per process (idempotent); the hooks do nothing while no Cloud is running."""
    if _orig:
        return
    add = motoadapter.add_patch
    _orig["create"] = add(lambda_models.LambdaBackend, "create_event_source_mapping", _create_esm)
    _orig["update"] = add(lambda_models.LambdaBackend, "update_event_source_mapping", _update_esm)
    _orig["delete"] = add(lambda_models.LambdaBackend, "delete_event_source_mapping", _delete_esm)
    _orig["add_message"] = add(sqs_models.Queue, "add_message", _add_message)
    _orig["delete_message"] = add(sqs_models.Queue, "delete_message", _delete_message)
    _orig["delete_batch"] = add(sqs_models.SQSBackend, "delete_message_batch", _delete_message_batch)
    _orig["receive_message"] = add(sqs_models.SQSBackend, "receive_message", _receive_message)
    # moto's SQS reads the clock through datetime arithmetic (~20 µs) for every message on every receive,
    # and recounts the queue per received message: receive grows as batch × depth. Same results, faster.
    _orig["unix_time"] = add(sqs_models, "unix_time", _unix_time)
    _orig["unix_time_millis"] = add(sqs_models, "unix_time_millis", _unix_time_millis)
    _orig["retention"] = add(sqs_models.SQSBackend, "is_message_valid_based_on_retention_period", _retention_ok)
    _orig["change_visibility"] = add(sqs_models.SQSBackend, "change_message_visibility", _change_visibility)
    _orig["kinesis_put"] = add(kinesis_models.Stream, "put_record", _kinesis_put_record)
    _orig["ddb_add"] = add(ddb_table.StreamShard, "add", _ddb_stream_add)
