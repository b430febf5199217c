"""Which resource an AWS API call touches, so the flow graph can draw `function → table` edges.

Only data-plane operations count: creating a table in a set-up cell is not part of the event flow.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

T = TypeVar("T")

DATA_PLANE = {
    "dynamodb": {"PutItem", "GetItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchWriteItem",
                 "BatchGetItem", "TransactWriteItems", "TransactGetItems"},
    "sqs": {"SendMessage", "SendMessageBatch", "ReceiveMessage"},
    "sns": {"Publish", "PublishBatch"},
    "s3": {"PutObject", "GetObject", "CopyObject", "DeleteObject", "HeadObject"},
    "kinesis": {"PutRecord", "PutRecords"},
    "lambda": {"Invoke", "InvokeAsync"},
    "events": {"PutEvents"},
    "stepfunctions": {"StartExecution", "StartSyncExecution"},
}
KIND = {"dynamodb": "table", "sqs": "queue", "sns": "topic", "s3": "bucket", "kinesis": "stream",
        "lambda": "function", "events": "bus", "stepfunctions": "statemachine"}


def _last(value: str, sep: str) -> str:
    return value.rstrip(sep).rsplit(sep, 1)[-1]


def target_of(service: str, operation: str, params: dict) -> str | None:
    """`"table:Orders"` for a PutItem on Orders; None when the call is not part of the event flow."""
    if operation not in DATA_PLANE.get(service, ()):
        return None
    name: str | None = None
    if service == "dynamodb":
        name = params.get("TableName") or next(iter(params.get("RequestItems", {}) or {}), None)
        if name is None and params.get("TransactItems"):
            first = params["TransactItems"][0]
            name = next(iter(first.values()), {}).get("TableName")
    elif service == "sqs":
        name = _last(params.get("QueueUrl", ""), "/")
    elif service == "sns":
        arn = params.get("TopicArn") or params.get("TargetArn") or ""
        name = _last(arn, ":")
    elif service == "s3":
        name = params.get("Bucket")
    elif service == "kinesis":
        name = params.get("StreamName") or _last(params.get("StreamARN", ""), "/")
    elif service == "lambda":
        name = _last(params.get("FunctionName", ""), ":") if ":function:" not in params.get("FunctionName", "") \
            else params["FunctionName"].split(":")[6]
    elif service == "events":
        entries = params.get("Entries") or [{}]
        name = _last(entries[0].get("EventBusName") or "default", "/")
    elif service == "stepfunctions":
        name = _last(params.get("stateMachineArn", ""), ":")
    return f"{KIND[service]}:{name}" if name else None


class CallObserver(Protocol):
    """Who records calls (the running `Cloud`): a place in the trace when one starts, the outcome after."""

    def call_started(self, target: str) -> Any: ...  # None: not recorded (the runtime's own calls)
    def call_finished(self, started: Any, operation: str, error: Exception | None) -> None: ...


def traced(observer: CallObserver | None, target: str | None, operation: str, call: Callable[[], T]) -> T:
    """Make `call` and record it as a `call` record on `target`, with how it ended.

    One path for every client whose calls belong in the event flow: boto3's (through the moto
    adapter) and the search client's.
    """
    started = observer.call_started(target) if observer is not None and target is not None else None
    if started is None:
        return call()
    try:
        result = call()
    except Exception as exc:
        observer.call_finished(started, operation, exc)  # type: ignore[union-attr]
        raise
    observer.call_finished(started, operation, None)  # type: ignore[union-attr]
    return result
