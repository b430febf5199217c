"""Notifications service: `sendNotification`, reading the `payment-completed` queue.

It owns the `notifications` table (what was sent to whom) and the email provider. It knows nothing
about orders or payments beyond the `PaymentCompleted` message it reads.
"""

import json
import os
import time

import boto3

TABLE = os.environ.get("NOTIFICATIONS_TABLE", "notifications")
EMAIL_LATENCY_MS = float(os.environ.get("EMAIL_PROVIDER_LATENCY_MS", "20"))

# Init phase: once per execution environment.
table = boto3.resource("dynamodb").Table(TABLE)


class AddressRejected(Exception):
    pass


def send_email(to, subject):
    """Stand-in for the email provider's API (SES, SendGrid...)."""
    time.sleep(EMAIL_LATENCY_MS / 1000)
    if "@" not in to:
        raise AddressRejected(f"the email provider rejected the address {to!r}")


def send(event, context):
    """One email per PaymentCompleted message; the SQS message id keys what was sent."""
    for record in event["Records"]:
        payment = json.loads(record["body"])
        subject = f"Order {payment['order_id']} is paid"
        send_email(payment["customer"], subject)
        table.put_item(Item={"message_id": record["messageId"], "order_id": payment["order_id"],
                             "to": payment["customer"], "subject": subject})
        print("notify", payment["order_id"], "→", payment["customer"])
