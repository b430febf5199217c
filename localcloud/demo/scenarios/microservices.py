"""Microservices: the chapter's `ecommerce` service deployed from its serverless.yml, order after order.

``POST /orders`` reaches the orders service (createOrder), which publishes ``OrderCreated`` to the
``order-created`` topic; the payments service (processPayment) charges the order and sends
``PaymentCompleted`` to the ``payment-completed`` queue; the notifications service
(sendNotification) emails the customer. Each service owns its table. Orders whose total is over the
card limit are declined (a `decline_rate` share of them): processPayment fails, Lambda retries the
SNS event twice, then gives up. Turn on `monolith` to run the same work in one function behind the
same route, and compare the timelines: one bar per order instead of a staircase of three.
"""

from __future__ import annotations

import json
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

from localcloud.demo.scenarios import Knob, Scenario
from localcloud.demo.scenarios._helpers import ensure_table, fails, since, work
from localcloud.trace import Trace

SERVICE = Path(__file__).resolve().parents[3] / "notebooks" / "services" / "ecommerce" / "serverless.yml"
TABLES = {"orders": "order_id", "payments": "payment_id", "notifications": "message_id"}
CARD_LIMIT = 5000
HANDLERS = __name__  # the monolith is this module's `monolith` handler


def monolith(event, context):
    """The same work as the three services, in one function: no topic, no queue, one deployment."""
    import boto3

    ddb = boto3.resource("dynamodb")
    request = json.loads(event.get("body") or "{}", parse_float=Decimal)
    total = sum(Decimal(str(i["price"])) * int(i["quantity"]) for i in request["items"])
    order_id = request["order_id"]
    ddb.Table("orders").put_item(Item={"order_id": order_id, "customer": request["customer"], "total": total,
                                       "status": "PENDING"})
    work(float(os.environ.get("PAYMENT_PROVIDER_LATENCY_MS", "40")))
    if total > Decimal(os.environ.get("CARD_LIMIT", str(CARD_LIMIT))):
        return {"statusCode": 402, "body": json.dumps({"message": f"card declined for order {order_id}"})}
    ddb.Table("payments").put_item(Item={"payment_id": f"pay-{order_id}", "order_id": order_id, "amount": total,
                                         "status": "CAPTURED"})
    work(float(os.environ.get("EMAIL_PROVIDER_LATENCY_MS", "20")))
    ddb.Table("notifications").put_item(Item={"message_id": context.aws_request_id, "order_id": order_id})
    return {"statusCode": 201, "body": json.dumps({"order_id": order_id, "status": "PAID"})}


def _deploy(cloud, environment: dict[str, str]) -> Any:
    if not SERVICE.exists():
        raise FileNotFoundError(f"the ecommerce service is not at {SERVICE}: run the demo from a course checkout")
    deployment = cloud.deploy(str(SERVICE))
    for key in ("processPayment", "sendNotification"):  # the knobs are the functions' configuration
        fn = deployment.functions[key]
        config = cloud.client("lambda").get_function_configuration(FunctionName=fn.name)
        deployment.functions[key] = cloud.function(fn.name, config["Handler"], timeout=config["Timeout"],
                                                   memory=config["MemorySize"], environment=environment,
                                                   code_dir=str(SERVICE.parent))
    lam = cloud.client("lambda")
    mappings = lam.list_event_source_mappings(FunctionName=deployment.functions["sendNotification"].name)
    for old in mappings["EventSourceMappings"][:-1]:  # a second run on one cloud must not add a second poller
        lam.delete_event_source_mapping(UUID=old["UUID"])
    return deployment


def run(cloud, *, orders: int = 5, payment_latency_ms: int = 40, email_latency_ms: int = 20,
        decline_rate: float = 0.0, monolith: bool = False) -> Trace:
    first = len(cloud.trace)
    ddb = cloud.client("dynamodb")
    for table, key in TABLES.items():
        ensure_table(ddb, table, key)
    environment = {"PAYMENT_PROVIDER_LATENCY_MS": str(payment_latency_ms),
                   "EMAIL_PROVIDER_LATENCY_MS": str(email_latency_ms), "CARD_LIMIT": str(CARD_LIMIT)}
    if monolith:
        fn = cloud.function("monolith", f"{HANDLERS}.monolith", timeout=6, memory=1024, environment=environment)
        api = cloud.http_api({"POST /orders": fn}, name="monolith", payload_version="1.0")
    else:
        api = _deploy(cloud, environment).api
    for i in range(1, orders + 1):
        price = CARD_LIMIT * 2 if fails(decline_rate, "microservices", i) else 10 * i
        response = api.request("POST", "/orders", json={
            "order_id": f"o-{i}", "customer": f"customer{i}@example.com",
            "items": [{"sku": "book", "quantity": 1, "price": price}]})
        if response.status_code not in (201, 402):
            raise RuntimeError(f"POST /orders answered {response.status_code}: {response.text}")
        cloud.wait(timeout=15)  # one order at a time, so the timeline shows each order's chain
    return since(cloud.trace, first)


SCENARIO = Scenario(
    name="microservices",
    title="Microservices: orders → SNS → payments → SQS → notifications",
    description=__doc__.strip().splitlines()[0],
    knobs=(
        Knob("orders", "orders", 5, 1, 20, 1),
        Knob("payment_latency_ms", "payment provider (ms)", 40, 0, 500, 10),
        Knob("email_latency_ms", "email provider (ms)", 20, 0, 500, 10),
        Knob("decline_rate", "declined payments", 0.0, 0.0, 1.0, 0.1),
        Knob("monolith", "one function (monolith)", False),
    ),
    run=run,
    lesson="notebooks/04-microservices.ipynb",
)
