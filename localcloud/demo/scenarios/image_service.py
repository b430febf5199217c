"""The complete image-processing service: the chapter's serverless.yml, S3 → uploadHandler → SNS → 2 workers.

Lesson 10's service, deployed with `cloud.deploy` from ``notebooks/services/``: each upload to
``images/uploads/`` is an S3 event for uploadHandler, which publishes it to the ``image-uploaded``
topic; SNS invokes thumbnailGenerator (a JPEG under ``thumbnails/``) and metadataExtractor (EXIF
into ``ImageMetadata``) in parallel. The knobs: how many images and how big, how many of them are
PNGs with transparency, how many uploads are not images at all (both workers fail, Lambda retries
twice, then drops the event), and the two loop guards — the corrected file's S3 prefix rule and the
handler's skip of ``thumbnails/``. Turn both off and each thumbnail re-triggers the service until
recursive loop detection stops the chain at 16.
"""

from __future__ import annotations

import io
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

from localcloud.demo.scenarios import Knob, Scenario
from localcloud.demo.scenarios._helpers import photo, since
from localcloud.trace import Trace

SERVICES = Path(__file__).resolve().parents[3] / "notebooks" / "services"
AS_PRINTED, FIXED = SERVICES / "image-processor", SERVICES / "image-processor-fixed"


def logo(size: int) -> bytes:
    """A PNG with a transparent background (mode RGBA): JPEG cannot hold it as it is."""
    from PIL import Image, ImageDraw

    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    ImageDraw.Draw(img).ellipse([size // 10, size // 10, size * 9 // 10, size * 9 // 10], fill=(230, 90, 40, 255))
    buffer = io.BytesIO()
    img.save(buffer, "PNG")
    return buffer.getvalue()


def unguarded_upload(event, context):
    """The corrected upload handler without its skip of ``thumbnails/`` (for the loop demo)."""
    import boto3

    _, _, _, region, account, *_ = context.invoked_function_arn.split(":")
    sns = boto3.client("sns")
    for record in event["Records"]:
        key = unquote_plus(record["s3"]["object"]["key"])
        sns.publish(TopicArn=f"arn:aws:sns:{region}:{account}:image-uploaded",
                    Message=json.dumps({"bucket": record["s3"]["bucket"]["name"], "key": key}))


_FOLDERS: dict[bool, Path] = {}


def _service_folder(prefix_rule: bool) -> Path:
    """A folder (made once per process) with the corrected handlers next to the corrected serverless.yml
    (`prefix_rule`) or the chapter's, byte for byte."""
    if prefix_rule not in _FOLDERS:
        folder = Path(tempfile.mkdtemp(prefix="image-service-"))
        for module in ("upload.py", "thumbnail.py", "metadata.py"):
            shutil.copy(FIXED / module, folder / module)
        shutil.copy((FIXED if prefix_rule else AS_PRINTED) / "serverless.yml", folder / "serverless.yml")
        _FOLDERS[prefix_rule] = folder
    return _FOLDERS[prefix_rule]


def _deploy(cloud, prefix_rule: bool, handler_guard: bool) -> Any:
    """The corrected file (with its prefix rule), or the chapter's file next to the corrected handlers."""
    if not FIXED.exists():
        raise FileNotFoundError(f"the image-processor service is not at {FIXED}: run the demo from a course checkout")
    if "ImageMetadata" in cloud.client("dynamodb").list_tables()["TableNames"]:
        cloud.reset()  # a second run on one cloud: the service's stack and table exist already
    deployment = cloud.deploy(_service_folder(prefix_rule) / "serverless.yml")
    if not handler_guard:
        fn = deployment.functions["uploadHandler"]
        config = cloud.client("lambda").get_function_configuration(FunctionName=fn.name)
        deployment.functions["uploadHandler"] = cloud.function(
            fn.name, unguarded_upload, timeout=config["Timeout"], memory=config["MemorySize"],
            environment=config.get("Environment", {}).get("Variables"))
    return deployment


def run(cloud, *, images: int = 6, image_size: int = 800, png_share: float = 0.2, not_images: int = 0,
        prefix_rule: bool = True, handler_guard: bool = True) -> Trace:
    _deploy(cloud, prefix_rule, handler_guard)
    first = len(cloud.trace)
    pngs = round(images * png_share)
    bodies = {f"uploads/photo {i + 1:02d}.jpg": photo(i, image_size) for i in range(images - pngs)}
    bodies.update({f"uploads/logo {i + 1:02d}.png": logo(min(image_size, 600)) for i in range(pngs)})
    bodies.update({f"uploads/notes {i + 1:02d}.jpg": b"not an image at all" for i in range(not_images)})
    s3 = cloud.client("s3")
    for key, body in bodies.items():
        s3.put_object(Bucket="images", Key=key, Body=body)
    cloud.wait(timeout=60)
    return since(cloud.trace, first)


SCENARIO = Scenario(
    name="image-service",
    title="Image service: S3 → uploadHandler → SNS → thumbnail + metadata",
    description=__doc__.strip().splitlines()[0],
    knobs=(
        Knob("images", "images", 6, 1, 20, 1),
        Knob("image_size", "image size (px)", 800, 200, 3000, 100),
        Knob("png_share", "share of transparent PNGs", 0.2, 0.0, 1.0, 0.1),
        Knob("not_images", "uploads that are not images", 0, 0, 5, 1),
        Knob("prefix_rule", "S3 rule prefix: uploads/", True),
        Knob("handler_guard", "handler skips thumbnails/", True),
    ),
    run=run,
    lesson="notebooks/10-image-processing-service.ipynb",
)
