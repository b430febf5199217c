"""1. Upload Handler, corrected (lesson 10): every record, decoded keys, the topic's ARN, no loop.

Changes from the chapter's code:
* the topic is addressed by its **ARN** (`sns.publish` refuses a bare name with InvalidParameter):
  `IMAGE_TOPIC` from the environment, or built from this function's own region and account;
* object keys are **URL-decoded** (`my photo.jpg` arrives as `my+photo.jpg`);
* keys under `thumbnails/` are skipped — defence in depth: `serverless.yml` already sends only
  `uploads/` here, but a handler that could loop should refuse to, whatever its configuration.
"""

import json
import os
from urllib.parse import unquote_plus

import boto3

TOPIC = os.environ.get("IMAGE_TOPIC", "image-uploaded")  # a topic name or its ARN
OUTPUT_PREFIX = "thumbnails/"  # where the thumbnail generator writes

# Init phase: once per execution environment.
sns = boto3.client("sns")


def topic_arn(context):
    """The topic's ARN: given as configuration, or built from this function's own ARN."""
    if TOPIC.startswith("arn:"):
        return TOPIC
    _, _, _, region, account, *_ = context.invoked_function_arn.split(":")
    return f"arn:aws:sns:{region}:{account}:{TOPIC}"


def handler(event, context):
    published = []
    for record in event["Records"]:
        bucket = record["s3"]["bucket"]["name"]
        key = unquote_plus(record["s3"]["object"]["key"])
        if key.startswith(OUTPUT_PREFIX):
            print(f"skipped {key}: our own output, not an upload")
            continue
        sns.publish(TopicArn=topic_arn(context), Message=json.dumps({"bucket": bucket, "key": key}))
        published.append(key)
    return {"published": published}
