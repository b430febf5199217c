"""1. Upload Handler — the chapter's code as printed.

Only the lines the chapter leaves out are added: the imports and the `sns` client it uses, and
`handler`, the name `serverless.yml` points at (`handler: upload.handler`).
"""

import json  # not in the chapter

import boto3  # not in the chapter

sns = boto3.client("sns")  # not in the chapter: its code uses `sns` without creating it


# 1. Upload Handler
def upload_handler(event, context):
    for record in event['Records']:
        bucket = record['s3']['bucket']['name']
        key = record['s3']['object']['key']

        # Trigger processing
        sns.publish(
            TopicArn='image-uploaded',
            Message=json.dumps({'bucket': bucket, 'key': key})
        )


handler = upload_handler  # serverless.yml: `handler: upload.handler`
