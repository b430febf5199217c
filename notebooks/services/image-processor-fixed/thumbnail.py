"""2. Thumbnail Generator, corrected (lesson 10): every record, any image mode, a `.jpg` thumbnail.

Changes from the chapter's code:
* every SNS record is processed, not just `Records[0]`;
* images with transparency or a palette (`RGBA`, `LA`, `P` — most PNGs and GIFs) are flattened onto
  white before saving as JPEG, which has no alpha channel (Pillow: "cannot write mode RGBA as JPEG");
* the thumbnail is named `.jpg` with its content type, since it is a JPEG whatever the upload was;
* `THUMBNAIL_BUCKET` may name a second bucket for the output (default: the upload's own bucket).
"""

import io
import json
import os

import boto3
from PIL import Image

SIZE = (200, 200)
THUMBNAIL_BUCKET = os.environ.get("THUMBNAIL_BUCKET")  # None: write next to the upload

# Init phase: once per execution environment.
s3 = boto3.client("s3")


def thumbnail_key(key):
    """`uploads/logo.png` → `thumbnails/uploads/logo.jpg`."""
    stem = key.rsplit(".", 1)[0] if "." in key.rsplit("/", 1)[-1] else key
    return f"thumbnails/{stem}.jpg"


def make_thumbnail(data):
    """JPEG bytes of at most 200 x 200 pixels, aspect ratio kept, transparency flattened onto white."""
    img = Image.open(io.BytesIO(data))
    img.thumbnail(SIZE)
    if img.mode in ("RGBA", "LA", "P"):
        img = img.convert("RGBA")
        background = Image.new("RGB", img.size, (255, 255, 255))
        background.paste(img, mask=img.getchannel("A"))
        img = background
    elif img.mode != "RGB":
        img = img.convert("RGB")
    buffer = io.BytesIO()
    img.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def handler(event, context):
    written = []
    for record in event["Records"]:
        message = json.loads(record["Sns"]["Message"])
        obj = s3.get_object(Bucket=message["bucket"], Key=message["key"])
        key = thumbnail_key(message["key"])
        s3.put_object(Bucket=THUMBNAIL_BUCKET or message["bucket"], Key=key,
                      Body=make_thumbnail(obj["Body"].read()), ContentType="image/jpeg")
        written.append(key)
    return {"thumbnails": written}
