"""3. Metadata Extractor, corrected (lesson 10): every record, and the `extract_exif` the chapter forgot.

Changes from the chapter's code:
* `extract_exif` exists: it reads the image from S3 and returns its size, format and camera tags as
  strings (DynamoDB refuses Python floats, and EXIF holds rationals);
* every SNS record is processed, not just `Records[0]`;
* the timestamp is UTC in ISO 8601, not the server's local `str(datetime.now())`.

Writing the same `image_id` twice overwrites one item with the same content, so a duplicate event
is harmless here (idempotent by construction).
"""

import io
import json
import os
from datetime import UTC, datetime

import boto3
from PIL import Image

TABLE = os.environ.get("METADATA_TABLE", "ImageMetadata")
EXIF_TAGS = {0x010F: "Make", 0x0110: "Model", 0x0132: "DateTime", 0x0131: "Software", 0x8298: "Copyright"}

# Init phase: once per execution environment.
s3 = boto3.client("s3")
table = boto3.resource("dynamodb").Table(TABLE)


def extract_exif(bucket, key):
    """Size, format and the main EXIF tags of an image in S3, all as strings."""
    img = Image.open(io.BytesIO(s3.get_object(Bucket=bucket, Key=key)["Body"].read()))
    tags = img.getexif()
    metadata = {name: str(tags[tag]).strip("\x00 ") for tag, name in EXIF_TAGS.items() if tag in tags}
    metadata.update(Format=str(img.format), Mode=img.mode, Width=str(img.width), Height=str(img.height))
    return metadata


def handler(event, context):
    stored = []
    for record in event["Records"]:
        message = json.loads(record["Sns"]["Message"])
        table.put_item(Item={
            "image_id": message["key"],
            "metadata": extract_exif(message["bucket"], message["key"]),
            "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        })
        stored.append(message["key"])
    return {"stored": stored}
