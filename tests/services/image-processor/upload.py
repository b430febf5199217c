import json
from urllib.parse import unquote_plus

import boto3


def handler(event, context):
    sns = boto3.client("sns")
    topic = next(t["TopicArn"] for t in sns.list_topics()["Topics"] if t["TopicArn"].endswith(":image-uploaded"))
    for record in event["Records"]:
        key = unquote_plus(record["s3"]["object"]["key"])
        if key.startswith("thumbnails/"):
            continue
        sns.publish(TopicArn=topic, Message=json.dumps({"bucket": record["s3"]["bucket"]["name"], "key": key}))
