import json

import boto3


def handler(event, context):
    message = json.loads(event["Records"][0]["Sns"]["Message"])
    boto3.resource("dynamodb").Table("ImageMetadata").put_item(Item={"image_id": message["key"], "size": 1})
