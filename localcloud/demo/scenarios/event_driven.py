"""Event-driven processing: S3 uploads → Process Image → Generate Thumbnail + Extract Metadata.

Lesson 02's pipeline with its four fixes. Each upload to ``photos/uploads/`` is an asynchronous S3
event for ProcessImage, which hands the object to GenerateThumbnail (Pillow; the JPEG goes to
``thumbnails/``) and ExtractMetadata (EXIF into ``ImageMetadata``, photos per camera in
``CameraStats``) with asynchronous invokes, so uploads and both workers run in parallel. A failure
rate makes the thumbnail step fail now and then (watch Lambda's retries); duplicate events deliver
each S3 event twice (the conditional write keeps the counts right); without the prefix filter the
thumbnails re-trigger the pipeline until recursive loop detection stops each chain at 16.
"""

from __future__ import annotations

import io
import json
import threading
from typing import Any
from urllib.parse import unquote_plus

from localcloud.demo.scenarios import Knob, Scenario
from localcloud.demo.scenarios._helpers import MAKE, MODEL, fails, photo, since
from localcloud.trace import Trace

BUCKET = "photos"


def make_process_image(seen: list[dict] | None = None):
    """S3-triggered: decode each key (`unquote_plus`) and hand the object to both workers, asynchronously.

    Events are kept in `seen` (when given) so the scenario can deliver them a second time.
    """
    state: dict[str, Any] = {}

    def handler(event, context):
        if seen is not None:
            seen.append(event)
        if "lambda" not in state:
            import boto3

            state["lambda"] = boto3.client("lambda")
        for record in event["Records"]:
            message = json.dumps({"bucket": record["s3"]["bucket"]["name"],
                                  "key": unquote_plus(record["s3"]["object"]["key"]),
                                  "etag": record["s3"]["object"]["eTag"]})
            for worker in ("GenerateThumbnail", "ExtractMetadata"):
                state["lambda"].invoke(FunctionName=worker, InvocationType="Event", Payload=message)

    return handler


def make_generate_thumbnail(failure_rate: float):
    """A 200-px JPEG thumbnail under ``thumbnails/``; fails for a `failure_rate` share of (key, attempt)."""
    attempts: dict[str, int] = {}
    lock = threading.Lock()
    state: dict[str, Any] = {}

    def handler(event, context):
        from PIL import Image

        if "s3" not in state:
            import boto3

            state["s3"] = boto3.client("s3")
        key = event["key"]
        with lock:
            attempts[key] = attempt = attempts.get(key, 0) + 1
        if fails(failure_rate, "thumbnail", key, attempt):
            raise RuntimeError(f"image service unavailable for {key}")
        body = state["s3"].get_object(Bucket=event["bucket"], Key=key)["Body"].read()
        img = Image.open(io.BytesIO(body))
        img.thumbnail((200, 200))
        if img.mode != "RGB":
            img = img.convert("RGB")
        buffer = io.BytesIO()
        img.save(buffer, "JPEG", quality=85)
        state["s3"].put_object(Bucket=event["bucket"], Key=f"thumbnails/{key.rsplit('.', 1)[0]}.jpg",
                               Body=buffer.getvalue(), ContentType="image/jpeg")

    return handler


def make_extract_metadata():
    """EXIF into ``ImageMetadata`` with a conditional write (idempotent), then one ADD per new photo."""
    state: dict[str, Any] = {}

    def handler(event, context):
        from PIL import Image

        if "s3" not in state:
            import boto3

            state["s3"], state["ddb"] = boto3.client("s3"), boto3.client("dynamodb")
        body = state["s3"].get_object(Bucket=event["bucket"], Key=event["key"])["Body"].read()
        img = Image.open(io.BytesIO(body))
        tags = img.getexif()
        make, model = str(tags.get(MAKE, "unknown")), str(tags.get(MODEL, ""))
        ddb = state["ddb"]
        try:
            ddb.put_item(TableName="ImageMetadata", Item={
                "image_id": {"S": event["key"]}, "etag": {"S": event["etag"]},
                "camera": {"S": f"{make} {model}".strip()}, "size": {"S": f"{img.width}x{img.height}"},
            }, ConditionExpression="attribute_not_exists(image_id) OR etag <> :etag",
                ExpressionAttributeValues={":etag": {"S": event["etag"]}})
        except ddb.exceptions.ConditionalCheckFailedException:
            return {"duplicate": True}
        ddb.update_item(TableName="CameraStats", Key={"camera": {"S": f"{make} {model}".strip()}},
                        UpdateExpression="ADD photos :one", ExpressionAttributeValues={":one": {"N": "1"}})
        return {"duplicate": False}

    return handler


def run(cloud, *, images: int = 6, image_size: int = 800, failure_rate: float = 0.0,
        duplicates: bool = False, prefix_filter: bool = True) -> Trace:
    first = len(cloud.trace)
    s3 = cloud.client("s3")
    ddb = cloud.client("dynamodb")
    lam = cloud.client("lambda")
    s3.create_bucket(Bucket=BUCKET)
    for table, key in (("ImageMetadata", "image_id"), ("CameraStats", "camera")):
        ddb.create_table(TableName=table, KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
                         BillingMode="PAY_PER_REQUEST")
    bodies = [photo(i, image_size) for i in range(images)]  # before the trace matters: not a handler's time
    seen: list[dict] = []
    process = cloud.function("ProcessImage", make_process_image(seen), timeout=10, memory=256)
    cloud.function("GenerateThumbnail", make_generate_thumbnail(failure_rate), timeout=10, memory=1024)
    cloud.function("ExtractMetadata", make_extract_metadata(), timeout=10, memory=256)
    lam.add_permission(FunctionName=process.name, StatementId="s3-invoke", Action="lambda:InvokeFunction",
                       Principal="s3.amazonaws.com", SourceArn=f"arn:aws:s3:::{BUCKET}")
    rule: dict[str, Any] = {"LambdaFunctionArn": process.arn, "Events": ["s3:ObjectCreated:*"]}
    if prefix_filter:
        rule["Filter"] = {"Key": {"FilterRules": [{"Name": "prefix", "Value": "uploads/"}]}}
    s3.put_bucket_notification_configuration(Bucket=BUCKET,
                                             NotificationConfiguration={"LambdaFunctionConfigurations": [rule]})
    for i, body in enumerate(bodies):
        s3.put_object(Bucket=BUCKET, Key=f"uploads/photo {i + 1:02d}.jpg", Body=body)
    cloud.wait(timeout=60)
    if duplicates:  # at-least-once delivery: every S3 event reaches ProcessImage a second time
        for event in list(seen):
            process.invoke_async(event)
        cloud.wait(timeout=60)
    return since(cloud.trace, first)  # this run's records, fixed: a later reset cannot change them


SCENARIO = Scenario(
    name="event-driven",
    title="Event-driven: S3 upload → thumbnail + metadata",
    description=__doc__.strip().splitlines()[0],
    knobs=(
        Knob("images", "images", 6, 1, 20, 1),
        Knob("image_size", "image size (px)", 800, 200, 3000, 100),
        Knob("failure_rate", "thumbnail failure rate", 0.0, 0.0, 1.0, 0.05),
        Knob("duplicates", "duplicate events", False),
        Knob("prefix_filter", "prefix filter uploads/", True),
    ),
    run=run,
    lesson="notebooks/02-event-driven-processing.ipynb",
)
