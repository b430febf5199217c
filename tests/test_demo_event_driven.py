"""The event-driven demo scenario (lesson 02): what each knob does, checked on the trace and in S3 / DynamoDB."""

from __future__ import annotations

import io

from PIL import Image

from localcloud.demo.scenarios import get

SCENARIO = get("event-driven")


def runs(trace, function: str) -> int:
    return len(trace.invocations.filter(function=function))


def photos_counted(cloud) -> int:
    items = cloud.client("dynamodb").scan(TableName="CameraStats")["Items"]
    return sum(int(item["photos"]["N"]) for item in items)


def test_each_upload_makes_a_thumbnail_and_a_metadata_item(cloud):
    trace = SCENARIO.run(cloud, **SCENARIO.values(images=4, image_size=600))
    assert trace.outcomes() == {"success": 12}
    assert [runs(trace, f) for f in ("ProcessImage", "GenerateThumbnail", "ExtractMetadata")] == [4, 4, 4]
    s3 = cloud.client("s3")
    thumbs = s3.list_objects_v2(Bucket="photos", Prefix="thumbnails/")["Contents"]
    assert sorted(o["Key"] for o in thumbs) == [f"thumbnails/uploads/photo {i:02d}.jpg" for i in range(1, 5)]
    for obj in thumbs:  # keys with spaces were decoded; every thumbnail is a small JPEG
        img = Image.open(io.BytesIO(s3.get_object(Bucket="photos", Key=obj["Key"])["Body"].read()))
        assert img.format == "JPEG" and max(img.size) == 200
    items = cloud.client("dynamodb").scan(TableName="ImageMetadata")["Items"]
    assert sorted(i["camera"]["S"] for i in items) == ["Apple iPhone 15", "Canon EOS R6", "Fujifilm X-T5",
                                                       "Sony A7 IV"]
    assert photos_counted(cloud) == 4


def test_without_the_prefix_filter_loop_detection_stops_the_chain_at_16(cloud):
    trace = SCENARIO.run(cloud, **SCENARIO.values(images=1, image_size=400, prefix_filter=False))
    drops = trace.filter(kind="drop")
    assert [(r.function, r.outcome) for r in drops] == [("ProcessImage", "RecursiveInvocationLoop")]
    assert [runs(trace, f) for f in ("ProcessImage", "GenerateThumbnail", "ExtractMetadata")] == [16, 16, 16]


def test_duplicate_events_run_again_but_count_once(cloud):
    trace = SCENARIO.run(cloud, **SCENARIO.values(images=3, image_size=400, duplicates=True))
    assert runs(trace, "ProcessImage") == 6 and runs(trace, "ExtractMetadata") == 6
    assert trace.outcomes() == {"success": 18}
    assert photos_counted(cloud) == 3


def test_failing_thumbnails_are_retried_twice_then_dropped(cloud):
    trace = SCENARIO.run(cloud, **SCENARIO.values(images=1, image_size=400, failure_rate=1.0))
    assert trace.invocations.filter(function="GenerateThumbnail").outcomes() == {"error": 3}
    assert [r.attempt for r in trace.invocations.filter(function="GenerateThumbnail")] == [1, 2, 3]
    assert [(r.function, r.outcome) for r in trace.filter(kind="drop")] == [("GenerateThumbnail", "RetriesExhausted")]
    assert runs(trace, "ExtractMetadata") == 1 and photos_counted(cloud) == 1
