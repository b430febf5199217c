"""API backend: HTTP API → Lambda → DynamoDB, and what cold starts cost the first callers.

CreateOrder (``POST /orders``) writes an order and answers 201; GetOrder (``GET /orders/{id}``)
reads it back. `clients` callers send requests at the same time, so Lambda opens up to that many
execution environments per function; each new one pays a cold start (the hatched bars, `init_ms`
long). Provisioned concurrency initializes that many environments per function before the first
request, so up to that many concurrent callers start warm; turning `cold_starts` off instead warms
one environment per client with a throw-away first round and shows only what follows.

The handlers are this module's `create` and `get`, loaded afresh per execution environment as
Lambda loads a module handler, so the init phase below runs once per environment.
"""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from localcloud.demo.scenarios import Knob, Scenario
from localcloud.demo.scenarios._helpers import ensure_table, fails, since, work
from localcloud.trace import Trace

HANDLERS = __name__  # "localcloud.demo.scenarios.api_backend": handlers are "<module>.create" / ".get"

# -- init phase: runs once per execution environment (and harmlessly on a plain import) -----------
# Starting Python and importing the SDK is what a real cold start pays; this process has all of it
# imported already, so SIMULATED_INIT_MS stands in for it (the `init_ms` knob).
_ddb: Any = None
if "AWS_LAMBDA_FUNCTION_NAME" in os.environ:  # inside an execution environment
    time.sleep(float(os.environ.get("SIMULATED_INIT_MS", "0")) / 1000)
    import boto3

    _ddb = boto3.client("dynamodb")


def _setting(name: str) -> float:
    return float(os.environ.get(name, "0"))


def create(event, context):
    order = json.loads(event.get("body") or "{}")
    work(_setting("LATENCY_MS"))
    if fails(_setting("FAILURE_RATE"), "create", order.get("order_id")):
        raise RuntimeError("CreateOrder failed")  # API Gateway answers 500
    _ddb.put_item(TableName="Orders", Item={"order_id": {"S": order["order_id"]},
                                            "item": {"S": order.get("item", "book")}})
    return {"statusCode": 201, "body": json.dumps({"order_id": order["order_id"]})}


def get(event, context):
    order_id = event["pathParameters"]["id"]
    work(_setting("LATENCY_MS"))
    item = _ddb.get_item(TableName="Orders", Key={"order_id": {"S": order_id}}).get("Item")
    if item is None:
        return {"statusCode": 404, "body": json.dumps({"message": "not found"})}
    return {"statusCode": 200, "body": json.dumps({"order_id": order_id, "item": item["item"]["S"]})}


def run(cloud, *, requests: int = 8, clients: int = 2, latency_ms: int = 30, failure_rate: float = 0.0,
        cold_starts: bool = True, init_ms: int = 150, provisioned: int = 0) -> Trace:
    first = len(cloud.trace)  # this run's records only, should the cloud hold earlier ones
    ensure_table(cloud.client("dynamodb"), "Orders", "order_id")
    settings = {"LATENCY_MS": latency_ms, "FAILURE_RATE": failure_rate, "SIMULATED_INIT_MS": init_ms}
    create_fn = cloud.function("CreateOrder", f"{HANDLERS}.create", timeout=3, memory=256,
                               environment=settings, provisioned_concurrency=provisioned)
    get_fn = cloud.function("GetOrder", f"{HANDLERS}.get", timeout=3, memory=256,
                            environment=settings, provisioned_concurrency=provisioned)
    api = cloud.http_api({"POST /orders": create_fn, "GET /orders/{id}": get_fn})

    def one(i: int, prefix: str = "order") -> int:
        order_id = f"{prefix}-{i}"
        posted = api.request("POST", "/orders", json={"order_id": order_id, "item": "book"})
        if posted.status_code >= 300:
            return posted.status_code
        return api.request("GET", f"/orders/{order_id}").status_code

    start = first
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
        Knob("init_ms", "cold-start init (ms)", 150, 0, 1000, 50,
             help="what a new execution environment spends before the handler runs (imports, SDK clients)"),
        Knob("provisioned", "provisioned concurrency", 0, 0, 8, 1,
             help="environments initialized before the first request, per function"),
    ),
    run=run,
    lesson="notebooks/01-api-backend.ipynb",
)
