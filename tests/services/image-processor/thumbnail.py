import json

import boto3


def handler(event, context):
    message = json.loads(event["Records"][0]["Sns"]["Message"])
    boto3.client("s3").put_object(Bucket=message["bucket"], Key=f"thumbnails/{message['key']}", Body=b"thumb")
