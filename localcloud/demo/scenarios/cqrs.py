"""CQRS: a command writes orders and publishes OrderCreated; an updater builds the read model later.

The seed chapter's order system. `create-order` writes each order to DynamoDB (the source of truth)
and publishes `OrderCreated` to SNS; `update-read-model`, subscribed to the topic, indexes the order
into the search engine and counts it per user in Redis after `lag_ms` (a stand-in for SNS delivery
plus the index refresh); `search-orders` reads the read model `read_after_ms` after each write and
logs `hit` or `miss`. Turn the lag up or the read delay down to widen the eventual-consistency
window; turn on duplicate deliveries to see the updater run twice per order (and, unless it is
idempotent, count twice).
"""

from __future__ import annotations

import json
import time

from localcloud.demo.scenarios import Knob, Scenario
from localcloud.demo.scenarios._helpers import ensure_table, since
from localcloud.trace import Trace


def run(cloud, *, orders: int = 5, lag_ms: int = 100, read_after_ms: int = 0, duplicates: bool = False,
        idempotent: bool = False) -> Trace:
    import boto3
    import fakeredis

    from localcloud import search

    first = len(cloud.trace)
    es = search.client()
    es.indices.delete(index="orders")  # a scenario may run twice on one cloud: start from an empty read model
    redis = fakeredis.FakeRedis(server=fakeredis.FakeServer(), decode_responses=True)
    ensure_table(cloud.client("dynamodb"), "Orders", "order_id")
    sns = cloud.client("sns")
    topic = sns.create_topic(Name="order-events")["TopicArn"]
    delivered: list[dict] = []
    counter = iter(range(1, 1_000_000))

    def create_order(event, context):
        order = {"order_id": f"order-{next(counter)}", "user_id": event["user_id"], "items": event["items"],
                 "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        boto3.resource("dynamodb").Table("Orders").put_item(Item=order)
        boto3.client("sns").publish(TopicArn=topic, Message=json.dumps({"type": "OrderCreated", "order": order}))
        return {"statusCode": 201, "headers": {"content-type": "application/json"},
                "body": json.dumps({"order_id": order["order_id"]})}

    def update_read_model(event, context):
        delivered.append(event)
        time.sleep(lag_ms / 1000)
        for record in event["Records"]:
            message = json.loads(record["Sns"]["Message"])
            if message["type"] != "OrderCreated":
                continue
            order = message["order"]
            es.index(index="orders", id=order["order_id"], body=order)
            if not idempotent or redis.sadd(f"user:{order['user_id']}:orders", order["order_id"]):
                redis.hincrby(f"user:{order['user_id']}", "order_count", 1)

    def search_orders(event, context):
        hits = es.search(index="orders", body={"query": {"bool": {"filter": [
            {"term": {"user_id": event["user_id"]}}]}}, "size": 1000})["hits"]["hits"]
        found = event["order_id"] in {hit["_id"] for hit in hits}
        print("hit" if found else "miss", event["order_id"])
        return {"statusCode": 200, "body": json.dumps({"found": found,
                                                       "order_count": int(redis.hget(f"user:{event['user_id']}",
                                                                                     "order_count") or 0)})}

    command = cloud.function("create-order", create_order)
    updater = cloud.function("update-read-model", update_read_model)
    query = cloud.function("search-orders", search_orders)
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=updater.arn)
    for i in range(orders):
        user = f"user-{i % 3 + 1}"
        placed = json.loads(command.invoke({"user_id": user, "items": [{"sku": "tea", "qty": 1}]})["body"])
        time.sleep(read_after_ms / 1000)
        query.invoke({"user_id": user, "order_id": placed["order_id"]})
    cloud.wait(timeout=30)
    if duplicates:  # SNS delivers at least once: every event once more
        lam = cloud.client("lambda")
        for event in list(delivered):
            lam.invoke(FunctionName="update-read-model", InvocationType="Event", Payload=json.dumps(event))
        cloud.wait(timeout=30)
    return since(cloud.trace, first)


SCENARIO = Scenario(
    name="cqrs",
    title="CQRS: command → DynamoDB + SNS → read-model updater → search & Redis",
    description=__doc__.strip().splitlines()[0],
    knobs=(
        Knob("orders", "orders", 5, 1, 20, 1),
        Knob("lag_ms", "read-model lag (ms)", 100, 0, 1000, 10, help="SNS delivery + index refresh"),
        Knob("read_after_ms", "read after write (ms)", 0, 0, 1000, 10),
        Knob("duplicates", "duplicate deliveries", False),
        Knob("idempotent", "idempotent updater", False),
    ),
    run=run,
    lesson="notebooks/06-cqrs.ipynb",
)
