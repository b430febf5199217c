"""2. Thumbnail Generator — the chapter's code as printed.

Only the lines the chapter leaves out are added: `import json`, and `handler`, the name
`serverless.yml` points at (`handler: thumbnail.handler`).
"""

# 2. Thumbnail Generator (the chapter's three imports, sorted, and the `json` it forgot)
import io
import json  # not in the chapter

import boto3
from PIL import Image


def generate_thumbnail(event, context):
    message = json.loads(event['Records'][0]['Sns']['Message'])

    # Download image
    s3 = boto3.client('s3')
    obj = s3.get_object(Bucket=message['bucket'], Key=message['key'])
    img = Image.open(io.BytesIO(obj['Body'].read()))

    # Generate thumbnail
    img.thumbnail((200, 200))

    # Upload thumbnail
    buffer = io.BytesIO()
    img.save(buffer, 'JPEG')
    buffer.seek(0)

    s3.put_object(
        Bucket=message['bucket'],
        Key=f"thumbnails/{message['key']}",
        Body=buffer
    )


handler = generate_thumbnail  # serverless.yml: `handler: thumbnail.handler`
