"""API backend: HTTP API → Lambda → DynamoDB, and what cold starts cost the first callers.

CreateOrder (``POST /orders``) writes an order and answers 201; GetOrder (``GET /orders/{id}``)
reads it back. `clients` callers send requests at the same time, so Lambda opens up to that many
execution environments per function; each new one pays a cold start (the hatched bars). Turn cold
starts off to pre-warm as many environments as there are clients and see only warm requests.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from localcloud.demo.scenarios import Knob, Scenario
from localcloud.demo.scenarios._helpers import fails, since, work
from localcloud.trace import Trace


def _table(state: dict[str, Any]):
    if "ddb" not in state:
        import boto3

        state["ddb"] = boto3.client("dynamodb")
    return state["ddb"]


def make_create(latency_ms: float, failure_rate: float):
    state: dict[str, Any] = {}

    def handler(event, context):
        order = json.loads(event.get("body") or "{}")
        work(latency_ms)
        if fails(failure_rate, "create", order.get("order_id")):
            raise RuntimeError("CreateOrder failed")  # API Gateway answers 500
        _table(state).put_item(TableName="Orders", Item={"order_id": {"S": order["order_id"]},
                                                         "item": {"S": order.get("item", "book")}})
        return {"statusCode": 201, "body": json.dumps({"order_id": order["order_id"]})}

    return handler


def make_get(latency_ms: float):
    state: dict[str, Any] = {}

    def handler(event, context):
        order_id = event["pathParameters"]["id"]
        work(latency_ms)
        item = _table(state).get_item(TableName="Orders", Key={"order_id": {"S": order_id}}).get("Item")
        if item is None:
            return {"statusCode": 404, "body": json.dumps({"message": "not found"})}
        return {"statusCode": 200, "body": json.dumps({"order_id": order_id, "item": item["item"]["S"]})}

    return handler


def run(cloud, *, requests: int = 8, clients: int = 2, latency_ms: int = 30, failure_rate: float = 0.0,
        cold_starts: bool = True) -> Trace:
    ddb = cloud.client("dynamodb")
    ddb.create_table(TableName="Orders", KeySchema=[{"AttributeName": "order_id", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "order_id", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")
    create = cloud.function("CreateOrder", make_create(latency_ms, failure_rate), timeout=3, memory=256)
    get = cloud.function("GetOrder", make_get(latency_ms), timeout=3, memory=256)
    api = cloud.http_api({"POST /orders": create, "GET /orders/{id}": get})

    def one(i: int, prefix: str = "order") -> int:
        order_id = f"{prefix}-{i}"
        posted = api.request("POST", "/orders", json={"order_id": order_id, "item": "book"})
        if posted.status_code >= 300:
            return posted.status_code
        return api.request("GET", f"/orders/{order_id}").status_code

    start = 0
    if not cold_starts:  # warm one environment per concurrent client, then show only what follows
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(lambda i: one(i, "warm-up"), range(clients)))
        cloud.wait(timeout=10)
        start = len(cloud.trace)
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, range(1, requests + 1)))
    cloud.wait(timeout=10)
    return since(cloud.trace, start)


SCENARIO = Scenario(
    name="api-backend",
    title="API backend: HTTP API → Lambda → DynamoDB",
    description=__doc__.strip().splitlines()[0],
    knobs=(
        Knob("requests", "requests", 8, 1, 50, 1),
        Knob("clients", "concurrent clients", 2, 1, 8, 1),
        Knob("latency_ms", "handler latency (ms)", 30, 0, 500, 10),
        Knob("failure_rate", "failure rate", 0.0, 0.0, 1.0, 0.05),
        Knob("cold_starts", "cold starts", True),
    ),
    run=run,
    lesson="notebooks/01-api-backend.ipynb",
)
