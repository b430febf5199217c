"""Checks for lab 06 — CQRS (``solutions/06-cqrs.ipynb``)."""

from __future__ import annotations

import json

from localcloud import search
from localcloud.grading import Exercises, handler_errors

EXERCISES = Exercises("06-cqrs")




def empty_read_model(ns):
    """The notebook's Redis, emptied (the search engine is emptied with the cloud)."""
    redis = getattr(ns, "redis", None)
    assert redis is not None, "run the setup cell first: the checks read the notebook's `redis`"
    redis.flushall()
    return search.client(), redis


def order(order_id: str, user_id: str, skus: list[str], day: int) -> dict:
    return {"order_id": order_id, "user_id": user_id, "items": [{"sku": sku, "qty": 1} for sku in skus],
            "timestamp": f"2026-01-{day:02d}T10:00:00.000+00:00"}


def created(o: dict) -> str:
    return json.dumps({"type": "OrderCreated", "order": o})


def counters(redis, users: list[str]) -> dict[str, str | None]:
    return {user: redis.hget(f"user:{user}", "order_count") for user in users}


# -- exercise 1 ----------------------------------------------------------------------------------
@EXERCISES.check(
    1,
    "the read-model updater",
    hint="es.index(index='orders', id=order['order_id'], body=order), then "
    "redis.hincrby(f\"user:{order['user_id']}\", 'order_count', 1).",
    solution="index the order under its order_id, and HINCRBY user:<user_id> order_count by 1.",
)
def check_update_read_model(ns, cloud):
    es, redis = empty_read_model(ns)
    fn = cloud.function("update-read-model", ns.update_read_model)
    sns = cloud.client("sns")
    topic = sns.create_topic(Name="order-events")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=fn.arn)
    orders = [order("o-1", "u-1", ["green tea"], 3), order("o-2", "u-2", ["oolong"], 4),
              order("o-3", "u-1", ["sencha", "biscuits"], 5)]
    for o in orders:
        sns.publish(TopicArn=topic, Message=created(o))
    sns.publish(TopicArn=topic, Message=json.dumps({"type": "OrderCancelled", "order": orders[1]}))
    cloud.wait()
    errors = handler_errors(cloud, "update-read-model")
    assert not errors, f"the updater failed: {errors[0]}"
    for o in orders:
        doc = es.get(index="orders", id=o["order_id"])
        assert doc["found"], f"order {o['order_id']} is not in the index 'orders' under its order_id"
        assert doc["_source"] == o, f"the document of {o['order_id']} should be the order itself, got {doc['_source']!r}"
    indexed = es.count(index="orders")["count"]
    assert indexed == 3, f"the index should hold the 3 orders (one document per order_id), found {indexed}"
    got = counters(redis, ["u-1", "u-2"])
    assert got == {"u-1": "2", "u-2": "1"}, (
        f"order_count in user:<user_id> should be u-1: 2, u-2: 1 (an OrderCancelled counts nothing), got {got}")


EX1 = """# Exercise 1
def update_read_model(event, context):
    for record in event["Records"]:
        message = json.loads(record["Sns"]["Message"])
        if message["type"] != "OrderCreated":
            continue
        order = message["order"]
        INDEX
        COUNT
"""
GOOD_INDEX = 'es.index(index="orders", id=order["order_id"], body=order)'
GOOD_COUNT = "redis.hincrby(f\"user:{order['user_id']}\", \"order_count\", 1)"
EXERCISES.known_wrong(
    1,
    EX1.replace("INDEX", 'es.index(index="orders", id=order["user_id"], body=order)').replace("COUNT", GOOD_COUNT),
    reason="order o-1 is not in the index",
)
EXERCISES.known_wrong(
    1,
    EX1.replace("INDEX", GOOD_INDEX).replace("COUNT", "redis.hset(f\"user:{order['user_id']}\", \"order_count\", 1)"),
    reason="should be u-1: 2, u-2: 1",
)
EXERCISES.known_wrong(
    1,
    EX1.replace("INDEX", GOOD_INDEX).replace("COUNT", "redis.hincrby(f\"user:{order['order_id']}\", \"order_count\", 1)"),
    reason="'u-1': None",
)


# -- exercise 2 ----------------------------------------------------------------------------------
SUPPORT_ORDERS = [
    order("o-1", "u-1", ["green tea", "biscuits"], 3),
    order("o-2", "u-2", ["green tea"], 4),
    order("o-3", "u-1", ["coffee beans"], 5),
    order("o-4", "u-1", ["sencha green tea"], 7),
    order("o-5", "u-1", ["earl grey"], 2),
    order("o-6", "u-10", ["green tea"], 8),
    order("o-7", "u-1", ["green tea"], 6),
]


@EXERCISES.check(
    2,
    "a new query on the read model",
    hint="body={'query': {'bool': {'filter': [{'term': {'user_id': user_id}}], 'must': [{'match': {'items.sku': item}}]}}, "
    "'sort': [{'timestamp': {'order': 'desc'}}], 'size': 100}; queryStringParameters may be missing: "
    "(event.get('queryStringParameters') or {}); return a body made with json.dumps, order_count as int.",
    solution="a term filter on user_id, a match on items.sku when an item is given, sorted by timestamp desc; "
    "order_count = int(redis.hget(...) or 0).",
)
def check_orders_with_item(ns, cloud):
    es, redis = empty_read_model(ns)
    for o in SUPPORT_ORDERS:
        es.index(index="orders", id=o["order_id"], body=o)
    redis.hset("user:u-1", "order_count", 5)
    redis.hset("user:u-2", "order_count", 1)
    fn = cloud.function("orders-with-item", ns.orders_with_item_query)
    api = cloud.http_api({"GET /users/{user_id}/orders": fn}, name="support-api")

    def get(path: str, what: str, **query) -> dict:
        response = api.request("GET", path, query=query or None)
        errors = handler_errors(cloud, "orders-with-item")
        assert not errors, f"{what}: the function failed: {errors[-1]}"
        assert response.status_code == 200, (
            f"{what}: the status should be 200, got {response.status_code}"
            + (" — API Gateway could not read the response: is the body a JSON string (json.dumps)?"
               if response.status_code == 502 else ""))
        try:
            body = response.json()
        except ValueError:
            raise AssertionError(f"{what}: the body should be JSON, got {response.text!r:.80}") from None
        assert isinstance(body, dict) and {"user_id", "order_count", "orders"} <= set(body), (
            f"{what}: the body should hold user_id, order_count and orders, got {body!r:.120}")
        return body

    body = get("/users/u-1/orders", "GET /users/u-1/orders?item=green tea", item="green tea")
    assert set(body["orders"]) <= {o["order_id"] for o in SUPPORT_ORDERS if o["user_id"] == "u-1"}, (
        f"orders should hold only u-1's orders, got {body['orders']} (o-2 is u-2's, o-6 is u-10's: filter on user_id)")
    assert sorted(body["orders"]) == ["o-1", "o-4", "o-7"], (
        f"u-1's orders with green tea are o-1, o-4 and o-7, got {body['orders']}")
    assert body["orders"] == ["o-4", "o-7", "o-1"], (
        f"orders should be newest first (by timestamp): ['o-4', 'o-7', 'o-1'], got {body['orders']}")
    assert body["order_count"] == 5 and isinstance(body["order_count"], int), (
        f"order_count should be the number 5 (Redis returns a string: int(...)), got {body['order_count']!r}")
    assert body["user_id"] == "u-1", f"user_id should be 'u-1', got {body['user_id']!r}"
    every = get("/users/u-1/orders", "GET /users/u-1/orders (no query string)")
    assert every["orders"] == ["o-4", "o-7", "o-3", "o-1", "o-5"], (
        f"without ?item= all of u-1's orders, newest first: ['o-4', 'o-7', 'o-3', 'o-1', 'o-5'], got {every['orders']}")
    nobody = get("/users/u-9/orders", "GET /users/u-9/orders?item=tea", item="tea")
    assert nobody["orders"] == [] and nobody["order_count"] == 0, (
        f"a user with no orders should get orders [] and order_count 0, got {nobody['orders']!r}, {nobody['order_count']!r}")


EX2 = """# Exercise 2
import json
def orders_with_item_query(event, context):
    user_id = event["pathParameters"]["user_id"]
    item = PARAMS.get("item")
    must = [{"match": {"items.sku": item}}] if item else []
    results = es.search(index="orders", body={
        "query": QUERY,
        SORT
        "size": 100,
    })
    body = {"user_id": user_id, "order_count": COUNT,
            "orders": [hit["_id"] for hit in results["hits"]["hits"]]}
    return {"statusCode": 200, "body": BODY}
"""
EX2_RIGHT = {
    "PARAMS": '(event.get("queryStringParameters") or {})',
    "QUERY": '{"bool": {"filter": [{"term": {"user_id": user_id}}], "must": must}}',
    "SORT": '"sort": [{"timestamp": {"order": "desc"}}],',
    "COUNT": 'int(redis.hget(f"user:{user_id}", "order_count") or 0)',
    "BODY": "json.dumps(body)",
}


def ex2(**changes: str) -> str:
    code = EX2
    for key, value in {**EX2_RIGHT, **changes}.items():
        code = code.replace(key, value)
    return code


EXERCISES.known_wrong(2, ex2(QUERY='{"bool": {"must": must}}'), reason="orders should hold only u-1's orders")
EXERCISES.known_wrong(2, ex2(SORT=""), reason="newest first")
EXERCISES.known_wrong(2, ex2(BODY="body"), reason="is the body a JSON string")
EXERCISES.known_wrong(2, ex2(COUNT='redis.hget(f"user:{user_id}", "order_count")'), reason="should be the number 5")
EXERCISES.known_wrong(2, ex2(PARAMS='event["queryStringParameters"]'), reason="(no query string): the function failed")


# -- exercise 3 ----------------------------------------------------------------------------------
@EXERCISES.check(
    3,
    "an idempotent updater",
    hint="Identify a duplicate by the order_id (a publisher retry has a new MessageId). Let Redis decide in one "
    "atomic step: `if redis.sadd(f\"user:{uid}:orders\", order_id): redis.hincrby(...)` — SADD returns 1 only "
    "the first time.",
    solution="index as before; count only when SADD (or SET ... NX) says this order_id is new.",
)
def check_idempotent_updater(ns, cloud):
    es, redis = empty_read_model(ns)
    seen: list[dict] = []
    fn = cloud.function("update-read-model-once", ns.update_read_model_once)
    probe = cloud.function("event-probe", lambda event, context: seen.append(event))
    sns = cloud.client("sns")
    topic = sns.create_topic(Name="order-events")["TopicArn"]
    for target in (fn, probe):
        sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=target.arn)
    orders = [order("o-1", "u-1", ["green tea"], 3), order("o-2", "u-1", ["oolong"], 4),
              order("o-3", "u-2", ["sencha"], 5), order("o-4", "u-3", ["matcha"], 6)]
    for o in orders:
        sns.publish(TopicArn=topic, Message=created(o))
    cloud.wait()
    errors = handler_errors(cloud, "update-read-model-once")
    assert not errors, f"the updater failed: {errors[0]}"
    want = {"u-1": "2", "u-2": "1", "u-3": "1"}
    users = sorted(want)
    got = counters(redis, users)
    assert got == want, f"after one delivery of each of 4 orders the counts should be {want}, got {got}"

    by_order = {json.loads(e["Records"][0]["Sns"]["Message"])["order"]["order_id"]: e for e in seen}
    for event in [by_order["o-1"]] * 3 + [by_order["o-3"]] * 2:  # SNS redelivers: the same records, at once
        fn.invoke_async(event)
    cloud.wait()
    errors = handler_errors(cloud, "update-read-model-once")
    assert not errors, f"the updater failed on a duplicate delivery: {errors[0]}"
    got = counters(redis, users)
    assert got == want, (
        f"after SNS delivered the same records again (o-1 three more times, in parallel) the counts should "
        f"still be {want}, got {got}")

    sns.publish(TopicArn=topic, Message=created(orders[1]))  # the command retried: same order, new MessageId
    cloud.wait()
    got = counters(redis, users)
    assert got == want, (
        f"after order o-2 was published again as a new message (same order_id, new MessageId) the counts "
        f"should still be {want}, got {got} — what identifies a duplicate order?")
    indexed = es.count(index="orders")["count"]
    assert indexed == 4, f"the index should hold the 4 orders, found {indexed}"


EX3 = """# Exercise 3
def update_read_model_once(event, context):
    for record in event["Records"]:
        message = json.loads(record["Sns"]["Message"])
        if message["type"] != "OrderCreated":
            continue
        order = message["order"]
        es.index(index="orders", id=order["order_id"], body=order)
        COUNT
"""
EXERCISES.known_wrong(
    3,
    EX3.replace("COUNT", "redis.hincrby(f\"user:{order['user_id']}\", \"order_count\", 1)"),
    reason="after SNS delivered the same records again",
)
EXERCISES.known_wrong(
    3,
    EX3.replace("COUNT", "if redis.sadd(\"seen-messages\", record[\"Sns\"][\"MessageId\"]):\n"
                "            redis.hincrby(f\"user:{order['user_id']}\", \"order_count\", 1)"),
    reason="what identifies a duplicate order?",
)
EXERCISES.known_wrong(
    3,
    EX3.replace("COUNT", "redis.hset(f\"user:{order['user_id']}\", \"order_count\", 1)"),
    reason="after one delivery of each of 4 orders the counts should be",
)
