"""S3 → Lambda: bucket notifications as asynchronous invocations, in AWS's record shape.

moto builds the record but encodes keys with `quote_plus`, turning `/` into `%2F`; AWS keeps `/` and
writes spaces as `+`. Handlers must `unquote_plus` the key either way — lesson 02's erratum.
"""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import quote_plus, unquote_plus


def aws_key(key: str) -> str:
    """How AWS writes an object key into an event: URL-encoded, `/` kept, spaces as `+`."""
    return quote_plus(key, safe="/")


def complete(event: dict, account_id: str) -> dict[str, Any]:
    """Fill in the fields moto leaves out, so handlers and Powertools' S3Model see AWS's shape."""
    for record in event.get("Records", []):
        s3 = record["s3"]
        s3["object"]["key"] = aws_key(unquote_plus(s3["object"]["key"]))
        s3["object"].setdefault("sequencer", uuid.uuid4().hex[:16].upper())
        s3["bucket"].setdefault("ownerIdentity", {"principalId": "A3NL1KOZZKExample"})
        record.setdefault("userIdentity", {"principalId": f"AWS:{account_id}"})
        record.setdefault("requestParameters", {"sourceIPAddress": "127.0.0.1"})
        record.setdefault("responseElements", {
            "x-amz-request-id": uuid.uuid4().hex[:16].upper(),
            "x-amz-id-2": uuid.uuid4().hex,
        })
    return event


def deliver(cloud, event: dict, function_arn: str) -> None:
    fn = cloud.runtime.get(function_arn)
    if fn is None:
        return  # as on AWS: the notification is lost if the function is gone
    bucket = event["Records"][0]["s3"]["bucket"]["name"]
    cloud.async_invoker.submit(fn, json.dumps(complete(event, cloud.account_id)), source=f"bucket:{bucket}")
