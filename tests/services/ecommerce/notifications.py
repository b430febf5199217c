import json

SENT = []


def send(event, context):
    for record in event["Records"]:
        print("notify", json.loads(record["body"])["order_id"])
    return {"sent": len(event["Records"])}
