"""Orders service: `createOrder` (POST /orders) and `getOrder` (GET /orders/{id}).

The orders service owns the `orders` table: no other service reads or writes it. It tells the rest
of the system that an order exists by publishing an `OrderCreated` event to the `order-created`
topic; that event is its public contract, the only thing other services may rely on.
"""

import json
import os
import uuid
from decimal import Decimal

import boto3

TABLE = os.environ.get("ORDERS_TABLE", "orders")
TOPIC = os.environ.get("ORDER_CREATED_TOPIC", "order-created")  # a topic name or its ARN

# Init phase: runs once per execution environment (a cold start), then warm invocations reuse it.
table = boto3.resource("dynamodb").Table(TABLE)
sns = boto3.client("sns")


def create(event, context):
    """POST /orders {"customer": "ada@example.com", "items": [{"sku", "quantity", "price"}]} → 201."""
    try:
        request = json.loads(event.get("body") or "{}", parse_float=Decimal)
        items = [{"sku": str(i["sku"]), "quantity": int(i["quantity"]), "price": Decimal(str(i["price"]))}
                 for i in request["items"]]
        customer = str(request["customer"])
        if not items or any(i["quantity"] < 1 or i["price"] < 0 for i in items):
            raise ValueError("items must be a non-empty list of positive quantities and prices")
    except (ValueError, KeyError, TypeError) as error:
        return response(400, {"message": f"invalid order: {error}"})

    order_id = str(request.get("order_id") or uuid.uuid4())  # a client may name its order
    total = sum(i["price"] * i["quantity"] for i in items)
    order = {"order_id": order_id, "customer": customer, "items": items, "total": total, "status": "PENDING"}
    try:
        table.put_item(Item=order, ConditionExpression="attribute_not_exists(order_id)")
    except table.meta.client.exceptions.ConditionalCheckFailedException:
        return response(409, {"message": f"order {order_id} exists already"})

    sns.publish(
        TopicArn=topic_arn(context),
        Message=json.dumps({"type": "OrderCreated", "order_id": order_id, "customer": customer, "total": total},
                           default=number),
        MessageAttributes={"total": {"DataType": "Number", "StringValue": str(total)}},
    )
    return response(201, {"order_id": order_id, "status": "PENDING", "total": total})


def get(event, context):
    """GET /orders/{id} → 200 with the order, or 404."""
    order_id = (event.get("pathParameters") or {}).get("id")
    item = table.get_item(Key={"order_id": order_id}).get("Item")
    if item is None:
        return response(404, {"message": f"no order {order_id}"})
    return response(200, item)


def topic_arn(context):
    """The topic's ARN: given as configuration, or built from this function's own region and account."""
    if TOPIC.startswith("arn:"):
        return TOPIC
    _, _, _, region, account, *_ = context.invoked_function_arn.split(":")
    return f"arn:aws:sns:{region}:{account}:{TOPIC}"


def number(value):
    """JSON for DynamoDB's Decimals: 25 stays 25, 12.5 stays 12.5."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def response(status, body):
    return {"statusCode": status, "headers": {"Content-Type": "application/json"},
            "body": json.dumps(body, default=number)}
