"""Checks for lab 03 — stream processing (``solutions/03-stream-processing.ipynb``)."""

from __future__ import annotations

import json
import threading

from localcloud import HandlerError, search
from localcloud.grading import Exercises, handler_errors

EXERCISES = Exercises("03-stream-processing")




def make_stream(cloud, name: str, shards: int) -> str:
    kinesis = cloud.client("kinesis")
    kinesis.create_stream(StreamName=name, ShardCount=shards)
    return kinesis.describe_stream(StreamName=name)["StreamDescription"]["StreamARN"]


def connect(cloud, arn: str, function: str, **settings) -> None:
    cloud.client("lambda").create_event_source_mapping(EventSourceArn=arn, FunctionName=function,
                                                       StartingPosition="TRIM_HORIZON", **settings)


def put_clicks(cloud, stream: str, users: list[str], per_user: int) -> dict[str, dict]:
    """Clicks interleaved across users; returns {eventID: click} as Lambda will name the records."""
    kinesis, sent = cloud.client("kinesis"), {}
    for n in range(1, per_user + 1):
        for user in users:
            click = {"user": user, "n": n, "page": f"/page/{n}"}
            r = kinesis.put_record(StreamName=stream, Data=json.dumps(click).encode(), PartitionKey=user)
            sent[f"{r['ShardId']}:{r['SequenceNumber']}"] = click
    return sent


def documents(index: str) -> dict[str, dict]:
    es = search.client()
    if not es.indices.exists(index=index):
        return {}
    return {h["_id"]: h["_source"] for h in es.search(index=index, body={"size": 10_000})["hits"]["hits"]}


# -- exercise 1 ----------------------------------------------------------------------------------
@EXERCISES.check(
    1,
    "decode and index Kinesis records",
    hint="For each record: click = json.loads(base64.b64decode(record['kinesis']['data'])); then "
    "es.index(index='clicks', id=record['eventID'], body=click).",
    solution="json.loads(base64.b64decode(record['kinesis']['data'])) indexed with id=record['eventID'], per record.",
)
def check_index_clicks(ns, cloud):
    arn = make_stream(cloud, "clicks", 2)
    cloud.function("IndexClicks", ns.index_clicks)
    sent = put_clicks(cloud, "clicks", ["u1", "u2", "u3", "u4"], 3)
    connect(cloud, arn, "IndexClicks", BatchSize=5, MaximumRetryAttempts=1)  # a failing handler must not block for a day
    cloud.wait()
    errors = handler_errors(cloud, "IndexClicks")
    assert not errors, f"the function 'IndexClicks' failed: {errors[0]}"
    docs = documents("clicks")
    assert len(docs) == len(sent), (
        f"found {len(docs)} documents in 'clicks', expected {len(sent)} (one per record)"
        + (" — is each record indexed, with a unique id?" if docs else " — does the handler call es.index?"))
    for event_id, click in sent.items():
        assert event_id in docs, f"no document with id {event_id!r}: use the record's eventID as the id"
        assert docs[event_id] == click, f"document {event_id!r} should be the decoded click {click}, got {docs[event_id]!r}"


EXERCISES.known_wrong(
    1,
    "# Exercise 1\ndef index_clicks(event, context):\n    for record in event['Records']:\n"
    "        es.index(index='clicks', id=record['eventID'], body=json.loads(record['kinesis']['data']))\n",
    reason="failed: JSONDecodeError",
)
EXERCISES.known_wrong(
    1,
    "# Exercise 1\ndef index_clicks(event, context):\n    for record in event['Records']:\n"
    "        click = json.loads(base64.b64decode(record['kinesis']['data']))\n"
    "        es.index(index='clicks', id=record['kinesis']['partitionKey'], body=click)\n",
    reason="found 4 documents in 'clicks', expected 12",
)
EXERCISES.known_wrong(
    1,
    "# Exercise 1\ndef index_clicks(event, context):\n    for record in event['Records']:\n"
    "        click = json.loads(base64.b64decode(record['kinesis']['data']))\n"
    "        es.index(index='clicks', id=record['kinesis']['sequenceNumber'], body=click)\n",
    reason="expected 12 (one per record)",
)


# -- exercise 2 ----------------------------------------------------------------------------------
class BusyCluster:
    """Stands in for the setup cell's `index_click`: fails once for the chosen clicks, records every call."""

    def __init__(self, original, fail: set[tuple[str, int]]) -> None:
        self.original, self.fail, self.calls, self.indexed = original, set(fail), [], []
        self._lock = threading.Lock()

    def __call__(self, click, doc_id):
        key = (click.get("user"), click.get("n")) if isinstance(click, dict) else (None, None)
        with self._lock:
            self.calls.append(key)
            if key in self.fail:
                self.fail.discard(key)
                raise ConnectionError("429 Too Many Requests: the search cluster is busy")
            self.indexed.append((key, doc_id))
        self.original(click, doc_id)


def handler_namespace(ns) -> dict:
    """The notebook globals the student's handler reads `index_click` from (the check swaps it)."""
    handler = ns.index_until_failure
    namespace = getattr(handler, "__globals__", None)
    if namespace is None or "index_click" not in namespace:
        raise AssertionError("index_until_failure should call the setup cell's index_click(click, doc_id)")
    return namespace


def probe_event(cloud, per_user: int) -> dict:
    """A real Kinesis event: one shard, one user's clicks 1..per_user, in one batch."""
    seen: list[dict] = []
    arn = make_stream(cloud, "probe", 1)
    cloud.function("probe", lambda event, context: seen.append(event))
    put_clicks(cloud, "probe", ["ada"], per_user)
    connect(cloud, arn, "probe", BatchSize=100, MaximumRetryAttempts=0)
    cloud.wait()
    return {"Records": [r for event in seen for r in event["Records"]]}


def failures_of(result) -> list:
    if result is None:
        return []
    assert isinstance(result, dict), f"the handler should return a dict like {{'batchItemFailures': [...]}}, got {result!r}"
    items = result.get("batchItemFailures")
    assert items is None or isinstance(items, list), f"batchItemFailures should be a list, got {items!r}"
    return items or []


@EXERCISES.check(
    2,
    "report the failed record with batchItemFailures",
    hint="Loop over the records inside try/except; in the except return {'batchItemFailures': "
    "[{'itemIdentifier': record['kinesis']['sequenceNumber']}]} at once; after the loop return "
    "{'batchItemFailures': []}.",
    solution="stop at the first failure and report its record['kinesis']['sequenceNumber']; never raise.",
)
def check_index_until_failure(ns, cloud):
    event = probe_event(cloud, 6)
    records = event["Records"]
    fn = cloud.function("IndexUntilFailure", ns.index_until_failure)
    namespace = handler_namespace(ns)
    original = namespace["index_click"]
    es = search.client()
    try:
        busy = BusyCluster(original, set())
        namespace["index_click"] = busy
        assert failures_of(fn.invoke(event)) == [], "when every record is indexed, batchItemFailures should be []"
        assert len(busy.indexed) == 6, f"index_click should be called once per record: 6 records, {len(busy.calls)} calls"
        assert [d for _, d in busy.indexed] == [r["eventID"] for r in records], (
            "call index_click(click, record['eventID']) for each record, in the order of the records")

        es.indices.delete(index="clicks")
        busy = BusyCluster(original, {("ada", 3)})
        namespace["index_click"] = busy
        try:
            result = fn.invoke(event)
        except HandlerError as error:
            raise AssertionError(f"the handler raised {error.error_type}: return batchItemFailures instead of "
                                 "raising (an exception fails, and retries, the whole batch)") from error
        failed = failures_of(result)
        assert failed, "index_click failed for the third record, but batchItemFailures is empty: the record would be lost"
        ids = [item.get("itemIdentifier") if isinstance(item, dict) else item for item in failed]
        wanted = records[2]["kinesis"]["sequenceNumber"]
        if records[2]["eventID"] in ids:
            raise AssertionError(f"itemIdentifier should be the failed record's sequence number ({wanted!r}), "
                                 f"not its eventID {records[2]['eventID']!r}")
        assert all(isinstance(i, str) and i.isdigit() for i in ids), (
            f"each itemIdentifier should be a record's sequence number (a string of digits, {wanted!r} here), got {ids!r}")
        assert min(ids, key=int) == wanted, f"itemIdentifier should be the failed record's sequence number {wanted!r}, got {ids!r}"
        later = [c for c in busy.calls if c[1] is not None and c[1] > 3]
        assert not later, (f"index_click was called for records after the failed one ({len(later)} calls): stop at the "
                           "first failure — they come again in the retry, and indexing them now breaks the order")

        es.indices.delete(index="clicks")
        busy = BusyCluster(original, {("u1", 3), ("u2", 2)})
        namespace["index_click"] = busy
        arn = make_stream(cloud, "clicks", 2)
        sent = put_clicks(cloud, "clicks", ["u1", "u2", "u3", "u4"], 5)
        connect(cloud, arn, "IndexUntilFailure", BatchSize=10, MaximumRetryAttempts=3,
                FunctionResponseTypes=["ReportBatchItemFailures"])
        cloud.wait()
    finally:
        namespace["index_click"] = original
    errors = handler_errors(cloud, "IndexUntilFailure")
    assert not errors, f"the function failed in a stream mapping: {errors[0]}"
    docs = documents("clicks")
    assert len(docs) == len(sent), f"with a busy cluster, {len(docs)} of {len(sent)} clicks were indexed"
    twice = len(busy.indexed) - len({d for _, d in busy.indexed})
    assert not twice, f"{twice} records were indexed again after a retry: report the failed record, not an earlier one"
    for user in ("u1", "u2", "u3", "u4"):
        order = [n for (u, n), _ in busy.indexed if u == user]
        assert order == sorted(order), f"{user}'s clicks were indexed out of order: {order}"


EXERCISES.known_wrong(
    2,
    "# Exercise 2\ndef index_until_failure(event, context):\n    for record in event['Records']:\n"
    "        try:\n            index_click(json.loads(base64.b64decode(record['kinesis']['data'])), record['eventID'])\n"
    "        except Exception:\n            return {'batchItemFailures': [{'itemIdentifier': record['eventID']}]}\n"
    "    return {'batchItemFailures': []}\n",
    reason="not its eventID",
)
EXERCISES.known_wrong(
    2,
    "# Exercise 2\ndef index_until_failure(event, context):\n    for record in event['Records']:\n"
    "        index_click(json.loads(base64.b64decode(record['kinesis']['data'])), record['eventID'])\n"
    "    return {'batchItemFailures': []}\n",
    reason="return batchItemFailures instead of raising",
)
EXERCISES.known_wrong(
    2,
    "# Exercise 2\ndef index_until_failure(event, context):\n    failed = []\n    for record in event['Records']:\n"
    "        try:\n            index_click(json.loads(base64.b64decode(record['kinesis']['data'])), record['eventID'])\n"
    "        except Exception:\n            failed.append({'itemIdentifier': record['kinesis']['sequenceNumber']})\n"
    "    return {'batchItemFailures': failed}\n",
    reason="index_click was called for records after the failed one",
)


# -- exercise 3 ----------------------------------------------------------------------------------
DEVICES = [f"d-{i}" for i in range(1, 9)]
READINGS = 4  # per device


def shard_contents(cloud, stream: str) -> dict[str, list[dict]]:
    kinesis, found = cloud.client("kinesis"), {}
    for shard in kinesis.describe_stream(StreamName=stream)["StreamDescription"]["Shards"]:
        iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        records = kinesis.get_records(ShardIterator=iterator, Limit=10_000)["Records"]
        found[shard["ShardId"]] = [json.loads(r["Data"]) for r in records]
    return found


@EXERCISES.check(
    3,
    "design partition keys and idempotent document ids",
    hint="PartitionKey=reading['device'] keeps a device in one shard and spreads devices; index 'readings' with "
    "id=record['eventID'] (shard + sequence number: the same on every delivery, unique across shards).",
    solution="partition key = the device; readings id = eventID; devices id = the device.",
)
def check_telemetry(ns, cloud):
    arn = make_stream(cloud, "telemetry", 4)
    kinesis = cloud.client("kinesis")
    for n in range(1, READINGS + 1):
        for device in DEVICES:
            ns.send_reading(kinesis, {"device": device, "n": n, "temp": 20 + n / 2})
    shards = shard_contents(cloud, "telemetry")
    total = sum(len(v) for v in shards.values())
    assert total == len(DEVICES) * READINGS, f"send_reading should put one record per reading: {total} records for 32 readings"
    for device in DEVICES:
        where = [s for s, readings in shards.items() if any(r.get("device") == device for r in readings)]
        assert len(where) == 1, (f"device {device}'s readings went to {len(where)} shards, so their order is lost: "
                                 "use a partition key that is the same for every reading of a device")
    used = [s for s, readings in shards.items() if readings]
    assert len(used) > 1, ("all readings went to one shard: a hot shard, and the other three idle — use a partition "
                           "key that differs between devices")

    delivered_once: set[str] = set()
    lock = threading.Lock()

    def times_out_after_the_writes(event, context):
        """The student's handler, then — on each shard's first batch — an error after the writes: a redelivery."""
        ns.store_readings(event, context)
        shard = event["Records"][0]["eventID"].split(":")[0]
        with lock:
            first = shard not in delivered_once
            delivered_once.add(shard)
        if first:
            raise TimeoutError("lab check: timed out after writing — Lambda will deliver this batch again")

    cloud.function("StoreReadings", times_out_after_the_writes)
    connect(cloud, arn, "StoreReadings", BatchSize=4, MaximumRetryAttempts=3)
    cloud.wait()
    errors = [e for e in handler_errors(cloud, "StoreReadings") if "lab check:" not in e]
    assert not errors, f"store_readings failed: {errors[0]}"
    readings = documents("readings")
    want = len(DEVICES) * READINGS
    assert len(readings) <= want, (f"found {len(readings)} documents in 'readings' for {want} readings: a redelivered "
                                   "batch added copies — use an id that is the same every time a record is delivered")
    assert len(readings) == want, (f"found {len(readings)} documents in 'readings' for {want} readings: different "
                                   "records shared an id — sequence numbers repeat across shards; use the eventID")
    latest = documents("devices")
    assert sorted(latest) == DEVICES, f"'devices' should hold one document per device (id = device), got ids {sorted(latest)[:10]}"
    for device, reading in latest.items():
        assert reading.get("n") == READINGS, (f"the latest reading of {device} should be n={READINGS}, got {reading!r}")


STORE = """
def store_readings(event, context):
    for record in event["Records"]:
        reading = json.loads(base64.b64decode(record["kinesis"]["data"]))
        es.index(index="readings", id=READING_ID, body=reading)
        es.index(index="devices", id=reading["device"], body=reading)
"""
SEND = """
def send_reading(kinesis, reading):
    kinesis.put_record(StreamName="telemetry", Data=json.dumps(reading).encode(), PartitionKey=KEY)
"""


def telemetry(key: str, reading_id: str, imports: str = "") -> str:
    return ("# Exercise 3\n" + imports + SEND.replace("KEY", key)
            + STORE.replace("READING_ID", reading_id))


EXERCISES.known_wrong(3, telemetry('str(reading["n"])', 'record["eventID"]'), reason="went to 2 shards")
EXERCISES.known_wrong(3, telemetry('"telemetry"', 'record["eventID"]'), reason="all readings went to one shard")
EXERCISES.known_wrong(3, telemetry('reading["device"]', 'record["kinesis"]["sequenceNumber"]'),
                      reason="sequence numbers repeat across shards")
EXERCISES.known_wrong(3, telemetry('reading["device"]', "str(uuid.uuid4())", "import uuid\n"),
                      reason="a redelivered batch added copies")
