"""SNS → Lambda and S3 → Lambda, wired with the boto3 calls a student makes, in AWS's event shapes."""

from __future__ import annotations

import json

import boto3
from aws_lambda_powertools.utilities.parser.models import S3Model, SnsModel


def collector(cloud, name: str):
    events: list[dict] = []
    fn = cloud.function(name, lambda event, context: events.append(event))
    return fn, events


def test_sns_delivers_to_every_lambda_subscriber_in_aws_shape(cloud):
    sns = boto3.client("sns")
    topic = sns.create_topic(Name="new-user")["TopicArn"]
    subscribers = [collector(cloud, name) for name in ("SendWelcomeEmail", "CreateUserProfile")]
    for fn, _ in subscribers:
        sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=fn.arn)
    message_id = sns.publish(TopicArn=topic, Message=json.dumps({"user": "ada"}), Subject="hi",
                             MessageAttributes={"plan": {"DataType": "String", "StringValue": "pro"}})["MessageId"]
    cloud.wait()
    for _, events in subscribers:
        (event,) = events
        parsed = SnsModel(**event)
        record = parsed.Records[0].Sns
        assert record.MessageId == message_id and record.TopicArn == topic and record.Subject == "hi"
        assert json.loads(record.Message) == {"user": "ada"}
        assert record.MessageAttributes["plan"].Value == "pro"
    assert {r.source for r in cloud.trace.invocations} == {"topic:new-user"}


def test_sns_filter_policies_on_attributes_and_on_the_body(cloud):
    sns = boto3.client("sns")
    topic = sns.create_topic(Name="orders")["TopicArn"]
    big, big_events = collector(cloud, "big-orders")
    eu, eu_events = collector(cloud, "eu-orders")
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=big.arn,
                  Attributes={"FilterPolicy": json.dumps({"total": [{"numeric": [">=", 100]}]})})
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=eu.arn,
                  Attributes={"FilterPolicy": json.dumps({"region": ["eu"]}), "FilterPolicyScope": "MessageBody"})
    for total, region in ((50, "eu"), (150, "us"), (500, "eu")):
        sns.publish(TopicArn=topic, Message=json.dumps({"region": region, "total": total}),
                    MessageAttributes={"total": {"DataType": "Number", "StringValue": str(total)}})
    cloud.wait()
    assert sorted(json.loads(e["Records"][0]["Sns"]["Message"])["total"] for e in big_events) == [150, 500]
    assert sorted(json.loads(e["Records"][0]["Sns"]["Message"])["total"] for e in eu_events) == [50, 500]


def test_sns_to_sqs_stays_mottos_native_delivery(cloud):
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    topic = sns.create_topic(Name="t")["TopicArn"]
    url = sqs.create_queue(QueueName="buffer")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    sns.publish(TopicArn=topic, Message="hello")
    (message,) = sqs.receive_message(QueueUrl=url)["Messages"]
    assert json.loads(message["Body"])["Message"] == "hello"
    (delivery,) = cloud.trace.filter(kind="deliver").records
    assert (delivery.source, delivery.target) == ("topic:t", "queue:buffer")


def s3_bucket_with_function(cloud, fn, **filters):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="images")
    rules = [{"Name": k, "Value": v} for k, v in filters.items()]
    config = {"LambdaFunctionArn": fn.arn, "Events": ["s3:ObjectCreated:*"]}
    if rules:
        config["Filter"] = {"Key": {"FilterRules": rules}}
    s3.put_bucket_notification_configuration(
        Bucket="images", NotificationConfiguration={"LambdaFunctionConfigurations": [config]})
    return s3


def test_s3_notifications_honour_prefix_and_suffix_and_encode_keys_as_aws(cloud):
    fn, events = collector(cloud, "process-image")
    s3 = s3_bucket_with_function(cloud, fn, prefix="uploads/", suffix=".jpg")
    s3.put_object(Bucket="images", Key="uploads/my photo.jpg", Body=b"x")
    s3.put_object(Bucket="images", Key="uploads/notes.txt", Body=b"x")
    s3.put_object(Bucket="images", Key="thumbnails/a.jpg", Body=b"x")
    cloud.wait()
    (event,) = events
    parsed = S3Model(**event)
    record = parsed.Records[0]
    assert record.s3.object.key == "uploads/my+photo.jpg"  # AWS: '/' kept, spaces as '+'
    assert record.eventName == "ObjectCreated:Put" and record.s3.bucket.name == "images"
    assert record.s3.object.size == 1
    assert [r.source for r in cloud.trace.invocations] == ["bucket:images"]


def test_a_thumbnail_written_back_to_the_trigger_bucket_is_stopped_as_a_recursive_loop(cloud):
    def make_thumbnail(event, context):
        key = event["Records"][0]["s3"]["object"]["key"]
        boto3.client("s3").put_object(Bucket="images", Key=f"thumb-{key}", Body=b"t")

    fn = cloud.function("thumbnail", make_thumbnail)
    s3 = s3_bucket_with_function(cloud, fn)
    s3.put_object(Bucket="images", Key="cat.jpg", Body=b"x")
    cloud.wait()
    assert len(cloud.trace.invocations) == 16
    assert [r.outcome for r in cloud.trace.filter(kind="drop")] == ["RecursiveInvocationLoop"]


def test_a_failed_call_is_traced_as_failed_and_scope_changes_apply(cloud):
    sns = boto3.client("sns")
    try:
        sns.publish(TopicArn="arn:aws:sns:us-east-1:123456789012:nowhere", Message="x")
    except sns.exceptions.NotFoundException:
        pass
    (call,) = cloud.trace.filter(kind="call").records
    assert call.outcome == "error" and "NotFound" in call.error
    topic = sns.create_topic(Name="orders")["TopicArn"]
    fn, events = collector(cloud, "eu")
    sub = sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=fn.arn, ReturnSubscriptionArn=True,
                        Attributes={"FilterPolicy": json.dumps({"region": ["eu"]})})["SubscriptionArn"]
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="FilterPolicyScope",
                                    AttributeValue="MessageBody")
    sns.publish(TopicArn=topic, Message=json.dumps({"region": "eu"}))
    cloud.wait()
    assert len(events) == 1
