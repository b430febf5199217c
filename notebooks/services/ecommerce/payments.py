"""Payments service: `processPayment`, subscribed to the `order-created` topic.

The payments service owns the `payments` table (one item per charge) and the conversation with the
payment provider. When a charge succeeds it sends a `PaymentCompleted` message to the
`payment-completed` queue: its public contract with whoever reads that queue.

`process` is version 1, as first deployed. `process_v2` is the same service's next release, deployed
on its own while the other services keep running (lesson 04): it charges an order at most once even
when SNS delivers the same event twice.
"""

import json
import os
import time
import uuid
from decimal import Decimal

import boto3

TABLE = os.environ.get("PAYMENTS_TABLE", "payments")
QUEUE = os.environ.get("PAYMENT_COMPLETED_QUEUE", "payment-completed")  # a queue name or its URL
PROVIDER_LATENCY_MS = float(os.environ.get("PAYMENT_PROVIDER_LATENCY_MS", "40"))
CARD_LIMIT = Decimal(os.environ.get("CARD_LIMIT", "5000"))

# Init phase: once per execution environment.
table = boto3.resource("dynamodb").Table(TABLE)
sqs = boto3.client("sqs")
queue_url = QUEUE if QUEUE.startswith("https://") else None  # looked up on first use, then cached


class PaymentDeclined(Exception):
    pass


def charge(order):
    """Stand-in for the payment provider's API (Stripe, Adyen...): a network call that takes time."""
    time.sleep(PROVIDER_LATENCY_MS / 1000)
    if Decimal(str(order["total"])) > CARD_LIMIT:
        raise PaymentDeclined(f"card declined for order {order['order_id']}: over the limit")
    return "ch_" + uuid.uuid4().hex[:16]


def completed(order, payment_id):
    """Tell the world, through the queue: the contract is this message's shape."""
    global queue_url
    if queue_url is None:
        queue_url = sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"]
    sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps({
        "type": "PaymentCompleted", "order_id": order["order_id"], "payment_id": payment_id,
        "customer": order["customer"], "amount": order["total"]}))


def process(event, context):
    """Version 1: charge each order, record the charge, announce it."""
    for record in event["Records"]:
        order = json.loads(record["Sns"]["Message"])
        payment_id = charge(order)
        table.put_item(Item={"payment_id": payment_id, "order_id": order["order_id"],
                             "amount": Decimal(str(order["total"])), "status": "CAPTURED"})
        completed(order, payment_id)


def process_v2(event, context):
    """Version 2: idempotent. The payment's key comes from the order, and a conditional write claims
    it before the provider is called, so a second delivery of the same event charges nothing."""
    for record in event["Records"]:
        order = json.loads(record["Sns"]["Message"])
        payment_id = f"pay-{order['order_id']}"
        try:
            table.put_item(Item={"payment_id": payment_id, "order_id": order["order_id"],
                                 "amount": Decimal(str(order["total"])), "status": "CHARGING"},
                           ConditionExpression="attribute_not_exists(payment_id)")
        except table.meta.client.exceptions.ConditionalCheckFailedException:
            print(f"order {order['order_id']} is paid already: nothing to do")
            continue
        try:
            charge(order)
        except Exception:
            table.delete_item(Key={"payment_id": payment_id})  # not charged after all: a retry may try again
            raise
        table.update_item(Key={"payment_id": payment_id}, UpdateExpression="SET #s = :s",
                          ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":s": "CAPTURED"})
        completed(order, payment_id)
