"""SNS → Lambda: an asynchronous invocation per subscription, with SNS's event shape.

moto applies the subscription's filter policy (attributes or message body) before we are called;
SNS → SQS stays moto's own delivery.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

CERT_URL = "https://sns.{region}.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem"


def event(*, subscription_arn: str, topic_arn: str, message: str, message_id: str, subject: str | None,
          attributes: dict | None, region: str) -> dict[str, Any]:
    """The event Lambda receives from SNS (one record per invocation, as on AWS)."""
    return {
        "Records": [{
            "EventSource": "aws:sns",
            "EventVersion": "1.0",
            "EventSubscriptionArn": subscription_arn,
            "Sns": {
                "Type": "Notification",
                "MessageId": message_id,
                "TopicArn": topic_arn,
                "Subject": subject,
                "Message": message,
                "Timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "SignatureVersion": "1",
                "Signature": "bG9jYWxjbG91ZCBkb2VzIG5vdCBzaWduIG1lc3NhZ2Vz",
                "SigningCertUrl": CERT_URL.format(region=region),
                "UnsubscribeUrl": (f"https://sns.{region}.amazonaws.com/?Action=Unsubscribe"
                                   f"&SubscriptionArn={subscription_arn}"),
                "MessageAttributes": {
                    name: {"Type": value.get("Type", "String"), "Value": value.get("Value")}
                    for name, value in (attributes or {}).items()
                },
            },
        }]
    }


def deliver(cloud, subscription: Any, message: str, message_id: str, subject: str | None,
            attributes: dict | None) -> None:
    fn = cloud.runtime.get(subscription.endpoint)
    if fn is None:
        return  # AWS delivers to a deleted function and fails silently (visible in SNS metrics only)
    body = event(subscription_arn=subscription.arn, topic_arn=subscription.topic.arn, message=message,
                 message_id=message_id, subject=subject, attributes=attributes, region=cloud.region)
    cloud.async_invoker.submit(fn, json.dumps(body), source=f"topic:{subscription.topic.name}")
