"""Checks for lab 10 — the complete image-processing service (``solutions/10-image-processing-service.ipynb``)."""

from __future__ import annotations

import io
import json
import shutil
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw

from localcloud.grading import Exercises, handler_errors

EXERCISES = Exercises("10-image-processing-service")
FIXED = Path(__file__).resolve().parents[2] / "notebooks" / "services" / "image-processor-fixed"
MAKE, MODEL = 0x010F, 0x0110




def jpeg(make: str = "Canon", model: str = "EOS R6", size: tuple[int, int] = (640, 480)) -> bytes:
    """A camera-like JPEG with Make and Model in its EXIF."""
    img = Image.new("RGB", size, (90, 140, 200))
    ImageDraw.Draw(img).ellipse([size[0] // 4, size[1] // 4, size[0] // 2, size[1] // 2], fill=(250, 200, 80))
    exif = Image.Exif()
    exif[MAKE], exif[MODEL] = make, model
    buffer = io.BytesIO()
    img.save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def transparent_png(size: int = 300) -> bytes:
    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    ImageDraw.Draw(img).ellipse([20, 20, size - 20, size - 20], fill=(230, 90, 40, 255))
    buffer = io.BytesIO()
    img.save(buffer, "PNG")
    return buffer.getvalue()


def spy_on_topic(cloud, topic: str = "image-uploaded") -> tuple[str, list[dict]]:
    """The topic, with a subscriber that keeps every event SNS delivers to it."""
    seen: list[dict] = []
    spy = cloud.function("spy", lambda event, context: seen.append(event))
    sns = cloud.client("sns")
    arn = sns.create_topic(Name=topic)["TopicArn"]
    sns.subscribe(TopicArn=arn, Protocol="lambda", Endpoint=spy.arn)
    return arn, seen


# -- exercise 1 ----------------------------------------------------------------------------------
UPLOADS_1 = ["uploads/my photo.jpg", "uploads/café.png", "uploads/cat.jpg"]


@EXERCISES.check(
    1,
    "decode the key, publish to the ARN",
    hint="An ARN is arn:aws:sns:REGION:ACCOUNT:NAME; context.invoked_function_arn is "
    "arn:aws:lambda:REGION:ACCOUNT:function:NAME, so split it on ':' and take parts 3 and 4. "
    "Decode the key with urllib.parse.unquote_plus (unquote leaves the '+' that stands for a space).",
    solution="topic_arn: region, account = context.invoked_function_arn.split(':')[3:5]; "
    "return f'arn:aws:sns:{region}:{account}:{name}'. The key: unquote_plus(record['s3']['object']['key']).",
)
def check_upload_handler(ns, cloud):
    _, seen = spy_on_topic(cloud)
    s3 = cloud.client("s3")
    s3.create_bucket(Bucket="images")
    fn = cloud.function("uploadHandler", ns.upload_handler)
    s3.put_bucket_notification_configuration(Bucket="images", NotificationConfiguration={
        "LambdaFunctionConfigurations": [{"LambdaFunctionArn": fn.arn, "Events": ["s3:ObjectCreated:*"]}]})
    for key in UPLOADS_1:
        s3.put_object(Bucket="images", Key=key, Body=jpeg())
    cloud.wait()
    errors = handler_errors(cloud, "uploadHandler")
    if any("InvalidParameter" in e for e in errors):
        raise AssertionError("uploadHandler failed: SNS Publish said InvalidParameter — TopicArn must be the "
                             "topic's ARN (arn:aws:sns:region:account:image-uploaded), not its name")
    assert not errors, f"uploadHandler failed: {errors[0]}"
    messages = [json.loads(r["Sns"]["Message"]) for event in seen for r in event["Records"]]
    assert messages, "nothing reached the topic 'image-uploaded': does upload_handler publish each record?"
    assert all(isinstance(m, dict) and m.get("bucket") == "images" for m in messages), (
        f"each message should be {{'bucket': 'images', 'key': ...}}, got {messages[0]!r}")
    keys = sorted(m.get("key") for m in messages)
    assert keys == sorted(UPLOADS_1), (
        f"the topic got the keys {keys}, expected {sorted(UPLOADS_1)}: keys arrive URL-encoded "
        "('my photo.jpg' as 'my+photo.jpg'), decode them before publishing")


CELL_1 = """# Exercise 1
import json
from urllib.parse import unquote, unquote_plus

import boto3


def topic_arn(context, name="image-uploaded"):
    _, _, _, region, account, *_ = context.invoked_function_arn.split(":")
    return f"arn:aws:sns:{region}:{account}:{name}"


def upload_handler(event, context):
    sns = boto3.client("sns")
    for record in event["Records"]:
        bucket = record["s3"]["bucket"]["name"]
        key = KEY
        sns.publish(TopicArn=TOPIC, Message=json.dumps({"bucket": bucket, "key": key}))
"""
EXERCISES.known_wrong(
    1,
    CELL_1.replace("KEY", 'unquote_plus(record["s3"]["object"]["key"])').replace("TOPIC", '"image-uploaded"'),
    reason="TopicArn must be the topic's ARN",
)
EXERCISES.known_wrong(
    1,
    CELL_1.replace("KEY", 'record["s3"]["object"]["key"]').replace("TOPIC", "topic_arn(context)"),
    reason="keys arrive URL-encoded",
)
EXERCISES.known_wrong(
    1,
    CELL_1.replace("KEY", 'unquote(record["s3"]["object"]["key"])').replace("TOPIC", "topic_arn(context)"),
    reason="'uploads/my+photo.jpg'], expected",
)


# -- exercise 2 ----------------------------------------------------------------------------------
UPLOADS_2 = {"uploads/fox.jpg": ("Fujifilm", "X-T5"), "uploads/lake.jpg": ("Canon", "EOS R6"),
             "uploads/logo.png": None}


def sns_event(cloud, keys: list[str]) -> dict:
    """Real SNS → Lambda events (one record each, as SNS sends them), put together in one event of
    several records — the shape of an SQS batch or a replay, which a handler must loop over."""
    arn, seen = spy_on_topic(cloud)
    sns = cloud.client("sns")
    for key in keys:
        sns.publish(TopicArn=arn, Message=json.dumps({"bucket": "images", "key": key}))
    cloud.wait()
    records = [r for event in seen for r in event["Records"]]
    records.sort(key=lambda r: keys.index(json.loads(r["Sns"]["Message"])["key"]))
    return {"Records": records}


@EXERCISES.check(
    2,
    "every record, not Records[0]",
    hint="for record in event['Records']: message = json.loads(record['Sns']['Message']); then one put_item "
    "per message with image_id = message['key'] and metadata = extract_exif(message['bucket'], message['key']).",
    solution="loop over event['Records'], not event['Records'][0]; one put_item per record.",
)
def check_extract_metadata(ns, cloud):
    cloud.client("dynamodb").create_table(
        TableName="ImageMetadata", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "image_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "image_id", "AttributeType": "S"}])
    s3 = cloud.client("s3")
    s3.create_bucket(Bucket="images")
    for key, camera in UPLOADS_2.items():
        s3.put_object(Bucket="images", Key=key, Body=jpeg(*camera) if camera else transparent_png())
    event = sns_event(cloud, list(UPLOADS_2))
    fn = cloud.function("metadataExtractor", ns.extract_metadata, timeout=10)
    fn.invoke({"Records": []})  # an empty batch is not an error
    fn.invoke(event)
    table = cloud.resource("dynamodb").Table("ImageMetadata")
    items = {item["image_id"]: item for item in table.scan()["Items"]}
    assert len(items) == len(UPLOADS_2), (
        f"an event of {len(UPLOADS_2)} records stored {len(items)} item(s) ({sorted(items)}): "
        "every record must be processed, not just Records[0]")
    assert sorted(items) == sorted(UPLOADS_2), f"image_id should be each message's key: got {sorted(items)}"
    for key, camera in UPLOADS_2.items():
        metadata = items[key].get("metadata")
        assert isinstance(metadata, dict), f"the item of {key} needs a 'metadata' map (from extract_exif), got {metadata!r}"
        if camera:
            assert metadata.get("Make") == camera[0], (
                f"the metadata of {key} should say Make {camera[0]!r} (from extract_exif), got {metadata!r}")


CELL_2 = """# Exercise 2
import io
import json
from datetime import UTC, datetime

import boto3
from PIL import Image


def extract_exif(bucket, key):
    img = Image.open(io.BytesIO(boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()))
    tags = img.getexif()
    return {"Make": str(tags.get(0x010F, "")), "Width": str(img.width), "Height": str(img.height)}


def extract_metadata(event, context):
    table = boto3.resource("dynamodb").Table("ImageMetadata")
BODY
"""
EXERCISES.known_wrong(
    2,
    CELL_2.replace("BODY", """    if not event["Records"]:
        return
    message = json.loads(event["Records"][0]["Sns"]["Message"])
    table.put_item(Item={"image_id": message["key"], "metadata": extract_exif(message["bucket"], message["key"]),
                         "timestamp": datetime.now(UTC).isoformat()})"""),
    reason="an event of 3 records stored 1 item(s)",
)
EXERCISES.known_wrong(
    2,
    CELL_2.replace("BODY", """    for record in event["Records"]:
        message = json.loads(record["Sns"]["Message"])
        table.put_item(Item={"image_id": message["key"], "timestamp": datetime.now(UTC).isoformat()})"""),
    reason="needs a 'metadata' map",
)


# -- exercise 3 ----------------------------------------------------------------------------------
UPLOADS_3 = {"uploads/cat.jpg": jpeg(), "uploads/my photo.jpg": jpeg("Sony", "A7 IV"),
             "uploads/logo.png": transparent_png()}
FUNCTIONS = {"uploadHandler": "upload.handler", "thumbnailGenerator": "thumbnail.handler",
             "metadataExtractor": "metadata.handler"}


@EXERCISES.check(
    3,
    "design: a service that cannot loop",
    hint="Keep the three functions and the table. Then either give the s3 event `rules: [{prefix: uploads/}]` "
    "(thumbnails go to thumbnails/, which no longer matches), or declare a second bucket in resources and hand "
    "its name to the thumbnail generator as the environment variable THUMBNAIL_BUCKET.",
    solution="uploadHandler's s3 event filtered with rules: - prefix: uploads/ — or thumbnails written to a "
    "second bucket (THUMBNAIL_BUCKET) that triggers nothing.",
)
def check_service(ns, cloud):
    text = ns.SERVICE_YML
    assert isinstance(text, str) and "functions" in text, "SERVICE_YML should be the text of a serverless.yml"
    from localcloud import ConfigurationError

    with tempfile.TemporaryDirectory() as folder:
        for module in ("upload.py", "thumbnail.py", "metadata.py"):  # the lesson's corrected handlers
            shutil.copy(FIXED / module, Path(folder) / module)
        (Path(folder) / "serverless.yml").write_text(text)
        try:
            deployment = cloud.deploy(Path(folder) / "serverless.yml")
        except ConfigurationError as error:
            raise AssertionError(f"the service did not deploy: {error}") from None
        missing = sorted(set(FUNCTIONS) - set(deployment.functions))
        assert not missing, f"the service should keep the chapter's functions; missing: {missing}"
        lam = cloud.client("lambda")
        for key, handler in FUNCTIONS.items():
            got = lam.get_function_configuration(FunctionName=deployment.functions[key].name)["Handler"]
            assert got == handler, f"{key} should keep `handler: {handler}`, got {got!r}"
        tables = cloud.client("dynamodb").list_tables()["TableNames"]
        assert "ImageMetadata" in tables, f"the service should still create the ImageMetadata table (tables: {tables})"
        s3 = cloud.client("s3")
        for key, body in UPLOADS_3.items():
            s3.put_object(Bucket="images", Key=key, Body=body)
        cloud.wait(timeout=30)
        upload = deployment.functions["uploadHandler"].name
        runs = len(cloud.trace.filter(kind="invoke", function=upload))
        loops = cloud.trace.filter(kind="drop", outcome="RecursiveInvocationLoop")
        assert not loops, "the service loops: Lambda stopped a chain as a RecursiveInvocationLoop"
        assert runs >= len(UPLOADS_3), (
            f"uploadHandler ran {runs} time(s) for {len(UPLOADS_3)} uploads under uploads/: "
            "the S3 event should still send every upload to it")
        assert runs == len(UPLOADS_3), (
            f"uploadHandler ran {runs} times for {len(UPLOADS_3)} uploads: writing a thumbnail invoked it again "
            "(the handler's guard skipped it, but the configuration should never send it a thumbnail — filter "
            "the S3 event with a prefix rule, or write thumbnails to a second bucket)")
        for key in FUNCTIONS:
            errors = [r.error for r in cloud.trace.filter(kind="invoke", function=deployment.functions[key].name,
                                                             outcome="error")]
            assert not errors, f"{key} failed: {errors[0]}"
        thumbnails = sorted(
            (bucket["Name"], obj["Key"]) for bucket in s3.list_buckets()["Buckets"]
            for obj in s3.list_objects_v2(Bucket=bucket["Name"]).get("Contents", [])
            if obj["Key"].startswith("thumbnails/"))
        assert len(thumbnails) == len(UPLOADS_3), (
            f"expected {len(UPLOADS_3)} thumbnails, found {len(thumbnails)}: {thumbnails}")
        items = cloud.client("dynamodb").scan(TableName="ImageMetadata")["Count"]
        assert items == len(UPLOADS_3), f"expected {len(UPLOADS_3)} items in ImageMetadata, found {items}"


SERVICE_AS_PRINTED = (Path(__file__).resolve().parents[2] / "notebooks" / "services" / "image-processor"
                      / "serverless.yml").read_text()
EXERCISES.known_wrong(
    3,
    f'# Exercise 3\nSERVICE_YML = """{SERVICE_AS_PRINTED}"""\n',
    reason="writing a thumbnail invoked it again",
)
EXERCISES.known_wrong(
    3,
    '# Exercise 3\nSERVICE_YML = """' + SERVICE_AS_PRINTED.replace(
        "          event: s3:ObjectCreated:*\n",
        "          event: s3:ObjectCreated:*\n          rules:\n            - suffix: .jpg\n") + '"""\n',
    reason="uploadHandler ran 4 times for 3 uploads",
)
EXERCISES.known_wrong(
    3,
    '# Exercise 3\nSERVICE_YML = """' + SERVICE_AS_PRINTED.replace(
        "          event: s3:ObjectCreated:*\n",
        "          event: s3:ObjectCreated:*\n          rules:\n            - prefix: thumbnails/\n") + '"""\n',
    reason="uploadHandler ran 0 time(s) for 3 uploads",
)
