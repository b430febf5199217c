"""Checks for lab 02 — event-driven processing (``solutions/02-event-driven-processing.ipynb``)."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

from localcloud.grading import Exercises, NotAttempted, handler_errors

EXERCISES = Exercises("02-event-driven-processing")




def image_bytes(mode: str, size: tuple[int, int], fmt: str) -> bytes:
    """A small test picture in `mode` (RGB, RGBA, P, L), saved as `fmt`."""
    width, height = size
    img = Image.new("RGBA" if mode == "RGBA" else "RGB", size, (0, 0, 0, 0) if mode == "RGBA" else (90, 140, 200))
    draw = ImageDraw.Draw(img)
    draw.ellipse([width // 8, height // 8, width * 7 // 8, height * 7 // 8], fill=(230, 90, 40, 255))
    if mode == "P":
        img = img.convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    elif mode == "L":
        img = img.convert("L")
    buffer = io.BytesIO()
    img.save(buffer, fmt)
    return buffer.getvalue()


def s3_records(cloud, keys: list[str], bucket: str = "lab02-uploads") -> list[dict]:
    """Real S3 → Lambda event records from the local cloud, one per uploaded key, in the order of `keys`."""
    seen: list[dict] = []
    probe = cloud.function("lab02-probe", lambda event, context: seen.append(event))
    s3 = cloud.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "LambdaFunctionConfigurations": [{"LambdaFunctionArn": probe.arn, "Events": ["s3:ObjectCreated:*"]}]})
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    cloud.wait()
    records = [r for event in seen for r in event["Records"]]
    from urllib.parse import unquote_plus

    records.sort(key=lambda r: keys.index(unquote_plus(r["s3"]["object"]["key"])))
    return records


# -- exercise 1 ----------------------------------------------------------------------------------
@EXERCISES.check(
    1,
    "where is the object?",
    hint="The bucket is record['s3']['bucket']['name']; decode the key with urllib.parse.unquote_plus "
    "(unquote leaves the '+' that stands for a space).",
    solution="return record['s3']['bucket']['name'], unquote_plus(record['s3']['object']['key'])",
)
def check_object_location(ns, cloud):
    keys = ["uploads/sun.jpg", "uploads/my photo.jpg", "uploads/café & croissant+jam.jpg", "uploads/2024/05/a b.png"]
    for key, record in zip(keys, s3_records(cloud, keys), strict=True):
        got = ns.object_location(record)
        assert isinstance(got, tuple) and len(got) == 2, f"object_location should return (bucket, key), got {got!r}"
        bucket, decoded = got
        assert bucket == "lab02-uploads", f"the bucket should be 'lab02-uploads', got {bucket!r}"
        assert decoded == key, (
            f"for the object {key!r} (in the event: {record['s3']['object']['key']!r}) the key should be "
            f"{key!r}, got {decoded!r}"
        )


EXERCISES.known_wrong(
    1,
    "# Exercise 1\ndef object_location(record):\n"
    "    return record['s3']['bucket']['name'], record['s3']['object']['key']\n",
    reason="the key should be 'uploads/my photo.jpg', got 'uploads/my+photo.jpg'",
)
EXERCISES.known_wrong(
    1,
    "# Exercise 1\nfrom urllib.parse import unquote\ndef object_location(record):\n"
    "    return record['s3']['bucket']['name'], unquote(record['s3']['object']['key'])\n",
    reason="got 'uploads/my+photo.jpg'",
)
EXERCISES.known_wrong(
    1,
    "# Exercise 1\ndef object_location(record):\n"
    "    return record['s3']['bucket']['name'], record['s3']['object']['key'].replace('+', ' ')\n",
    reason="the key should be 'uploads/café & croissant+jam.jpg'",
)


# -- exercise 2 ----------------------------------------------------------------------------------
CASES = (  # (what, mode, size in, format in, size out)
    ("an 800x600 camera JPEG", "RGB", (800, 600), "JPEG", (200, 150)),
    ("a 600x900 portrait JPEG", "RGB", (600, 900), "JPEG", (133, 200)),
    ("a greyscale (L) 1000x500 PNG", "L", (1000, 500), "PNG", (200, 100)),
    ("a 300x300 PNG with transparency (RGBA)", "RGBA", (300, 300), "PNG", (200, 200)),
    ("a palette (P) 120x80 GIF", "P", (120, 80), "GIF", (120, 80)),
)


@EXERCISES.check(
    2,
    "a thumbnail of any image",
    hint="Image.open(io.BytesIO(data)); img.thumbnail((200, 200)) keeps the shape; JPEG needs RGB, so "
    "convert other modes with img.convert('RGB') before img.save(buffer, 'JPEG'); return buffer.getvalue().",
    solution="open, thumbnail((200, 200)), convert to RGB (paste RGBA onto white to keep it white), save as JPEG.",
)
def check_make_thumbnail(ns):
    for what, mode, size, fmt, want in CASES:
        try:
            out = ns.make_thumbnail(image_bytes(mode, size, fmt))
        except NotAttempted:
            raise
        except Exception as exc:  # noqa: BLE001 — the student's error is the reason
            raise AssertionError(f"for {what} make_thumbnail raised {type(exc).__name__}: {exc}") from None
        assert isinstance(out, bytes | bytearray), f"make_thumbnail should return bytes, got {type(out).__name__}"
        try:
            thumb = Image.open(io.BytesIO(out))
        except Exception:  # noqa: BLE001
            raise AssertionError(f"for {what} the result is not an image Pillow can open") from None
        assert thumb.format == "JPEG", f"for {what} the thumbnail should be a JPEG, got {thumb.format}"
        assert thumb.size == want, (
            f"for {what} the thumbnail should be {want[0]}x{want[1]} (longest side at most 200, aspect ratio "
            f"kept, never enlarged), got {thumb.width}x{thumb.height}"
        )


THUMB = """# Exercise 2
import io
from PIL import Image
def make_thumbnail(data):
    img = Image.open(io.BytesIO(data))
    BODY
    buffer = io.BytesIO()
    img.save(buffer, "JPEG")
    return buffer.getvalue()
"""
EXERCISES.known_wrong(2, THUMB.replace("BODY", "img.thumbnail((200, 200))"),
                      reason="raised OSError: cannot write mode RGBA as JPEG")
EXERCISES.known_wrong(2, THUMB.replace("BODY", "img = img.convert('RGB').resize((200, 200))"),
                      reason="should be 200x150")
EXERCISES.known_wrong(
    2,
    "# Exercise 2\nimport io\nfrom PIL import Image\ndef make_thumbnail(data):\n"
    "    img = Image.open(io.BytesIO(data))\n    img.thumbnail((200, 200))\n"
    "    buffer = io.BytesIO()\n    img.save(buffer, 'PNG')\n    return buffer.getvalue()\n",
    reason="should be a JPEG, got PNG",
)


# -- exercise 3 ----------------------------------------------------------------------------------
def _table(ddb, name: str, key: str) -> None:
    ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}])


def _total(ddb) -> int:
    item = ddb.get_item(TableName="Counters", Key={"name": {"S": "total"}}).get("Item", {})
    return int(item.get("photos", {}).get("N", 0))


@EXERCISES.check(
    3,
    "count each photo once",
    hint="put_item(TableName='Photos', Item=..., ConditionExpression='attribute_not_exists(image_id) OR etag <> "
    ":etag', ExpressionAttributeValues={':etag': ...}); catch ConditionalCheckFailedException (a duplicate: "
    "skip it), and only after a successful put run the ADD on Counters.",
    solution="a conditional put keyed on the decoded key and its eTag; the ADD only when the put succeeded.",
)
def check_count_photo(ns, cloud):
    s3, ddb = cloud.client("s3"), cloud.client("dynamodb")
    s3.create_bucket(Bucket="photos")
    _table(ddb, "Photos", "image_id")
    _table(ddb, "Counters", "name")
    events: list[dict] = []

    def recorder(event, context):  # keeps the S3 events so the check can deliver one again
        events.append(event)
        return ns.count_photo(event, context)

    fn = cloud.function("count-photo", recorder)
    s3.put_bucket_notification_configuration(Bucket="photos", NotificationConfiguration={
        "LambdaFunctionConfigurations": [{"LambdaFunctionArn": fn.arn, "Events": ["s3:ObjectCreated:*"]}]})
    s3.put_object(Bucket="photos", Key="uploads/beach day.jpg", Body=b"photo one")
    s3.put_object(Bucket="photos", Key="uploads/cat.jpg", Body=b"photo two")
    cloud.wait()
    errors = handler_errors(cloud, "count-photo")
    assert not errors, f"the function 'count-photo' failed: {errors[0]}"
    assert _total(ddb) == 2, f"after two uploads Counters' total should be 2, got {_total(ddb)}"
    ids = sorted(item["image_id"]["S"] for item in ddb.scan(TableName="Photos")["Items"])
    assert ids == ["uploads/beach day.jpg", "uploads/cat.jpg"], (
        f"Photos' image_id should be the decoded key ('uploads/beach day.jpg'), found {ids}")
    first = events[0]
    fn.invoke_async(first)  # two more copies of one event, delivered together (at-least-once)
    fn.invoke_async(first)
    cloud.wait()
    errors = handler_errors(cloud, "count-photo")
    assert not errors, f"the function 'count-photo' failed on a duplicate event: {errors[0]}"
    assert _total(ddb) == 2, (
        f"a duplicate delivery was counted: the total is {_total(ddb)} after 2 uploads and 2 duplicate "
        "deliveries of one event, expected 2")
    s3.put_object(Bucket="photos", Key="uploads/cat.jpg", Body=b"photo two, edited")  # a new eTag
    cloud.wait()
    assert _total(ddb) == 3, (
        f"a re-upload of 'uploads/cat.jpg' with new content (a new eTag) should count again: total "
        f"{_total(ddb)}, expected 3")


COUNT = """# Exercise 3
import boto3
from urllib.parse import unquote_plus
def count_photo(event, context):
    dynamodb = boto3.client("dynamodb")
    for record in event["Records"]:
        key = KEY
        etag = record["s3"]["object"]["eTag"]
        try:
            dynamodb.put_item(TableName="Photos", Item={"image_id": {"S": key}, "etag": {"S": etag}}CONDITION)
        except dynamodb.exceptions.ConditionalCheckFailedException:
            continue
        dynamodb.update_item(TableName="Counters", Key={"name": {"S": "total"}},
                             UpdateExpression="ADD photos :one", ExpressionAttributeValues={":one": {"N": "1"}})
"""
DECODED = 'unquote_plus(record["s3"]["object"]["key"])'
BOTH = (', ConditionExpression="attribute_not_exists(image_id) OR etag <> :etag", '
        'ExpressionAttributeValues={":etag": {"S": etag}}')
EXERCISES.known_wrong(3, COUNT.replace("KEY", DECODED).replace("CONDITION", ""),
                      reason="a duplicate delivery was counted")
EXERCISES.known_wrong(
    3, COUNT.replace("KEY", DECODED).replace("CONDITION", ', ConditionExpression="attribute_not_exists(image_id)"'),
    reason="a re-upload of 'uploads/cat.jpg' with new content (a new eTag) should count again")
EXERCISES.known_wrong(3, COUNT.replace("KEY", 'record["s3"]["object"]["key"]').replace("CONDITION", BOTH),
                      reason="Photos' image_id should be the decoded key")


# -- exercise 4 ----------------------------------------------------------------------------------
def camera_jpeg(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (70, 130, 200)).save(buffer, "JPEG")
    return buffer.getvalue()


UPLOADS = {"uploads/beach day.jpg": (800, 600), "uploads/cat.jpg": (400, 400),
           "uploads/trips/2024/fox.jpg": (600, 900)}


@EXERCISES.check(
    4,
    "a pipeline that cannot loop",
    hint="Either write thumbnails to a second bucket (create it in wire_up), or keep one bucket and add a "
    "prefix filter to the notification: 'Filter': {'Key': {'FilterRules': [{'Name': 'prefix', 'Value': "
    "'uploads/'}]}} with thumbnails written outside uploads/. Decode keys with unquote_plus.",
    solution="thumbnails into 'photos-thumbnails' (or under thumbnails/ with an uploads/ prefix filter).",
)
def check_wire_up(ns, cloud):
    ns.wire_up(cloud)
    s3 = cloud.client("s3")
    buckets = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert "photos" in buckets, f"wire_up should create the bucket 'photos' (buckets: {buckets})"
    for key, (width, height) in UPLOADS.items():
        s3.put_object(Bucket="photos", Key=key, Body=camera_jpeg(width, height))
    cloud.wait(timeout=30)
    errors = handler_errors(cloud, "thumbnailer")
    loops = cloud.trace.filter(kind="drop", outcome="RecursiveInvocationLoop")
    runs = len(cloud.trace.invocations.filter(function="thumbnailer"))
    assert not loops, (
        f"your pipeline loops: 'thumbnailer' ran {runs} times for 3 uploads until Lambda's recursive loop "
        "detection dropped the event — its thumbnails trigger it again")
    assert not errors, f"the function 'thumbnailer' failed: {errors[0]}"
    assert runs == 3, (
        f"'thumbnailer' should run once per upload (3 times), it ran {runs} times"
        + (" — is the bucket's notification wired to the function?" if runs == 0 else ""))
    thumbnails = []
    for bucket in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        for obj in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
            if bucket == "photos" and obj["Key"] in UPLOADS:
                continue
            thumbnails.append((bucket, obj["Key"]))
    assert len(thumbnails) == 3, f"expected 3 thumbnails besides the uploads, found {len(thumbnails)}: {thumbnails}"
    for bucket, key in thumbnails:
        img = Image.open(io.BytesIO(s3.get_object(Bucket=bucket, Key=key)["Body"].read()))
        assert img.format == "JPEG" and max(img.size) <= 200, (
            f"s3://{bucket}/{key} should be a JPEG of at most 200x200, got {img.format} {img.width}x{img.height}")


WIRE = """# Exercise 4
import io
import boto3
from urllib.parse import unquote_plus
from PIL import Image
def thumbnailer(event, context):
    s3 = boto3.client("s3")
    for record in event["Records"]:
        bucket = record["s3"]["bucket"]["name"]
        key = KEY
        img = Image.open(io.BytesIO(s3.get_object(Bucket=bucket, Key=key)["Body"].read()))
        img.thumbnail((200, 200))
        buffer = io.BytesIO()
        img.save(buffer, "JPEG")
        s3.put_object(Bucket=bucket, Key="thumbnails/" + key, Body=buffer.getvalue())
def wire_up(cloud):
    s3 = cloud.client("s3")
    s3.create_bucket(Bucket="photos")
    fn = cloud.function("thumbnailer", thumbnailer, timeout=10)
    rule = {"LambdaFunctionArn": fn.arn, "Events": ["s3:ObjectCreated:*"]FILTER}
    s3.put_bucket_notification_configuration(Bucket="photos",
        NotificationConfiguration={"LambdaFunctionConfigurations": [rule]})
"""
PREFIX = ', "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "uploads/"}]}}'
EXERCISES.known_wrong(4, WIRE.replace("KEY", 'unquote_plus(record["s3"]["object"]["key"])').replace("FILTER", ""),
                      reason="your pipeline loops")
EXERCISES.known_wrong(4, WIRE.replace("KEY", 'record["s3"]["object"]["key"]').replace("FILTER", PREFIX),
                      reason="the function 'thumbnailer' failed: NoSuchKey")
EXERCISES.known_wrong(
    4, WIRE.replace("KEY", 'unquote_plus(record["s3"]["object"]["key"])').replace("FILTER", PREFIX)
    .replace('"thumbnails/" + key', '"uploads/thumbs/" + key'),
    reason="your pipeline loops")
