"""The orders API of lesson 01, written by hand: the module you would deploy to Lambda.

Three handlers behind one HTTP API (payload 2.0), configured by environment variables:

    POST /orders        create   -> 201 + Location, or 400 with the list of problems
    GET  /orders/{id}   get      -> 200 with presigned image links, or 404
    GET  /orders        list     -> 200 with one page of orders

In serverless.yml terms: ``handler: orders_api.create`` and so on. Everything at module level runs
once per execution environment (the *init* phase of a cold start); the handlers run per request.
"""

import json
import os
import time
import uuid
from decimal import Decimal

import boto3

TABLE = os.environ.get("ORDERS_TABLE", "Orders")
BUCKET = os.environ.get("ASSETS_BUCKET", "orders-assets")
LINK_SECONDS = 300  # how long an image link stays valid

# -- init phase: once per execution environment ------------------------------------------------
# A fresh Lambda sandbox starts Python and imports boto3 before this line (typically a few hundred
# ms). This notebook's process has imported boto3 already, so SIMULATED_INIT_MS (0 unless the
# lesson sets it) stands in for that part of an AWS cold start. The two clients below are real init.
time.sleep(float(os.environ.get("SIMULATED_INIT_MS", "0")) / 1000)
table = boto3.resource("dynamodb").Table(TABLE)
s3 = boto3.client("s3")


# -- responses ----------------------------------------------------------------------------------
def to_json(value):
    """json.dumps' `default`: DynamoDB gives every number back as Decimal, which json refuses."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def respond(status, body, headers=None):
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json", **(headers or {})},
        "body": json.dumps(body, default=to_json),
    }


class BadRequest(Exception):
    def __init__(self, problems):
        super().__init__("; ".join(problems))
        self.problems = problems


# -- validation ---------------------------------------------------------------------------------
def parse_order(event):
    """The order in the request body, or BadRequest listing everything wrong with it."""
    try:
        data = json.loads(event.get("body") or "")
    except ValueError:
        raise BadRequest(["the body must be a JSON object"]) from None
    if not isinstance(data, dict):
        raise BadRequest(["the body must be a JSON object"])
    problems = []
    customer = data.get("customer")
    if not isinstance(customer, str) or not customer.strip():
        problems.append("customer: a non-empty string is required")
    items = data.get("items")
    if not isinstance(items, list) or not items:
        problems.append("items: a non-empty list is required")
        items = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("sku"), str):
            problems.append(f"items[{i}].sku: a string is required")
            continue
        quantity = item.get("quantity")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or not 1 <= quantity <= 100:
            problems.append(f"items[{i}].quantity: a whole number from 1 to 100 is required")
    if problems:
        raise BadRequest(problems)
    return {"customer": customer.strip(),
            "items": [{"sku": i["sku"], "quantity": i["quantity"]} for i in items]}


# -- handlers -----------------------------------------------------------------------------------
def create(event, context):
    try:
        order = parse_order(event)
    except BadRequest as error:
        return respond(400, {"message": "invalid order", "errors": error.problems})
    order["order_id"] = str(uuid.uuid4())
    order["status"] = "placed"
    table.put_item(Item=order)
    return respond(201, order, {"location": f"/orders/{order['order_id']}"})


def image_link(sku):
    """A presigned GET for the product image: the client downloads it from S3, not through Lambda."""
    return s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": f"images/{sku}.png"},
                                     ExpiresIn=LINK_SECONDS)


def get(event, context):
    order_id = event["pathParameters"]["id"]
    order = table.get_item(Key={"order_id": order_id}).get("Item")
    if order is None:
        return respond(404, {"message": f"order {order_id} not found"})
    for item in order["items"]:
        item["image_url"] = image_link(item["sku"])
    return respond(200, order)


def list_orders(event, context):
    page = table.scan(Limit=50)  # one page; the lab turns this into real pagination
    return respond(200, {"orders": page["Items"], "count": len(page["Items"])})
