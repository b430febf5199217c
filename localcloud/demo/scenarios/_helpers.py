"""What several scenarios share: deterministic failures and a handler's simulated work."""

from __future__ import annotations

import io
import random
import time

from localcloud.trace import Trace


def fails(rate: float, *key: object) -> bool:
    """True for a `rate` share of keys, the same keys every run: a demo that can be repeated.

    A string seed makes `random.Random` hash with SHA-512, so the choice does not depend on
    PYTHONHASHSEED.
    """
    if rate <= 0:
        return False
    return random.Random(":".join(map(str, key))).random() < rate


def work(latency_ms: float) -> None:
    """The handler's own work (a call to an email provider, a CRM...), stood in for by a sleep."""
    if latency_ms > 0:
        time.sleep(latency_ms / 1000.0)


def since(trace: Trace, count: int) -> Trace:
    """The records after the first `count`: a run without its warm-up."""
    return Trace(trace.records[count:])


def ensure_table(ddb, name: str, key: str) -> None:
    """An on-demand table with a string hash key; running a scenario twice on one cloud is fine."""
    try:
        ddb.create_table(TableName=name, KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
                         BillingMode="PAY_PER_REQUEST")
    except ddb.exceptions.ResourceInUseException:
        pass


MAKE, MODEL, DATETIME = 0x010F, 0x0110, 0x0132  # EXIF tags
CAMERAS = (("Canon", "EOS R6"), ("Fujifilm", "X-T5"), ("Sony", "A7 IV"), ("Apple", "iPhone 15"))


def photo(index: int, size: int) -> bytes:
    """A camera-like JPEG: a small landscape whose longer side is `size`, with Make/Model/DateTime."""
    from PIL import Image, ImageDraw

    width, height = (size, size * 2 // 3) if index % 3 else (size * 2 // 3, size)
    img = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(img)
    for y in range(height):
        draw.line([(0, y), (width, y)], fill=(60 + 120 * y // height, 110 + 100 * y // height, 200))
    draw.polygon([(0, height), (width * 0.4, height * 0.5), (width * 0.8, height)], fill=(60, 70, 85))
    make, model = CAMERAS[index % len(CAMERAS)]
    exif = Image.Exif()
    exif[MAKE], exif[MODEL], exif[DATETIME] = make, model, f"2024:05:{1 + index % 28:02d} 12:00:00"
    buffer = io.BytesIO()
    img.save(buffer, "JPEG", exif=exif, quality=80)
    return buffer.getvalue()
