import json

import boto3


def process(event, context):
    order = json.loads(event["Records"][0]["Sns"]["Message"])
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName="payment-completed")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"order_id": order["order_id"], "paid": True}))
