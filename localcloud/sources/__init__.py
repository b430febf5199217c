"""Event sources, one module each, like moto's one package per service.

Push sources (API Gateway, SNS, S3, EventBridge) turn a service's event into AWS's event shape and
invoke; pollers (SQS, Kinesis, DynamoDB Streams) read batches under an event source mapping. A source
knows the runtime and its own service, never another source.
"""
