"""3. Metadata Extractor — the chapter's code as printed.

Only the lines the chapter leaves out are added: the imports, and `handler`, the name
`serverless.yml` points at (`handler: metadata.handler`). `extract_exif` is NOT added: the chapter
calls it without defining it, and lesson 10 shows what that does.
"""

import json  # not in the chapter
from datetime import datetime  # not in the chapter

import boto3  # not in the chapter (the thumbnail module imports it; this module is its own file)


# 3. Metadata Extractor
def extract_metadata(event, context):
    message = json.loads(event['Records'][0]['Sns']['Message'])

    # Extract EXIF data
    metadata = extract_exif(message['bucket'], message['key'])  # noqa: F821 — undefined in the chapter

    # Store in DynamoDB
    dynamodb = boto3.resource('dynamodb')
    table = dynamodb.Table('ImageMetadata')
    table.put_item(Item={
        'image_id': message['key'],
        'metadata': metadata,
        'timestamp': str(datetime.now())
    })


handler = extract_metadata  # serverless.yml: `handler: metadata.handler`
