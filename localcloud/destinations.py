"""Where Lambda sends what it gives up on (or, on success, what it reports): SQS, SNS, Lambda, EventBridge.

Two AWS mechanisms share this: on-success / on-failure *destinations*, which receive an invocation
record (request, response, condition), and a function's *dead-letter queue*, which receives the
original event with the error in message attributes. Their shapes differ on AWS, so they do here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from .runtime import Result


def node_for_arn(arn: str) -> str:
    """`arn:aws:sqs:…:orders-dlq` → `queue:orders-dlq` (the trace's node names)."""
    parts = arn.split(":")
    service, name = parts[2], parts[5] if len(parts) > 5 else arn
    kind = {"sqs": "queue", "sns": "topic", "lambda": "function", "events": "bus", "kinesis": "stream",
            "dynamodb": "table", "s3": "bucket"}.get(service, service)
    if service == "lambda":
        name = parts[6]
    elif "/" in name:
        name = name.split("/", 1)[1].split("/")[0]
    return f"{kind}:{name}"


def invocation_record(function_arn: str, payload: str, result: Result, condition: str, attempts: int) -> dict:
    """AWS's asynchronous invocation record, as a destination receives it."""
    response: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
    if not result.ok:
        response["functionError"] = "Unhandled"
    return {
        "version": "1.0",
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "requestContext": {
            "requestId": result.request_id,
            "functionArn": f"{function_arn}:$LATEST",
            "condition": condition,
            "approximateInvokeCount": attempts,
        },
        "requestPayload": json.loads(payload),
        "responseContext": response,
        "responsePayload": json.loads(result.response_payload()) if result.outcome != "throttled" else None,
    }


class Sender:
    """Delivers a document to a target ARN using the session's own (untraced) clients."""

    def __init__(self, client: Callable[[str], Any], invoke_async: Callable[..., Any]) -> None:
        self._client = client
        self._invoke_async = invoke_async

    def send(self, target_arn: str, body: str, *, attributes: dict[str, str] | None = None,
             source: str, detail_type: str = "") -> None:
        service = target_arn.split(":")[2]
        if service == "sqs":
            sqs = self._client("sqs")
            url = sqs.get_queue_url(QueueName=target_arn.split(":")[5])["QueueUrl"]
            kwargs: dict[str, Any] = {"QueueUrl": url, "MessageBody": body}
            if attributes:
                kwargs["MessageAttributes"] = {
                    k: {"DataType": "Number" if k == "ErrorCode" else "String", "StringValue": v}
                    for k, v in attributes.items()
                }
            sqs.send_message(**kwargs)
        elif service == "sns":
            kwargs = {"TopicArn": target_arn, "Message": body}
            if attributes:
                kwargs["MessageAttributes"] = {
                    k: {"DataType": "Number" if k == "ErrorCode" else "String", "StringValue": v}
                    for k, v in attributes.items()
                }
            self._client("sns").publish(**kwargs)
        elif service == "lambda":
            self._invoke_async(target_arn, body, source=source)
        elif service == "events":
            self._client("events").put_events(Entries=[{
                "Source": "lambda", "DetailType": detail_type or "Lambda Function Invocation Result",
                "Detail": body, "EventBusName": target_arn,
            }])
        else:
            raise ValueError(f"unsupported destination {target_arn!r}: use an SQS queue, SNS topic, "
                             "Lambda function or EventBridge bus ARN")
