"""Asynchronous invocation: AWS's retries, event age, destinations and dead-letter queues."""

from __future__ import annotations

import json

import boto3

from localcloud import Cloud


def queue(name: str) -> tuple[str, str]:
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def messages(url: str) -> list[dict]:
    return boto3.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                               MessageAttributeNames=["All"]).get("Messages", [])


def failing(event, context):
    raise RuntimeError(f"cannot handle {event['n']}")


def test_a_failing_event_is_tried_three_times_about_one_and_two_minutes_apart(cloud):
    fn = cloud.function("fails", failing)
    fn.invoke_async({"n": 1})
    cloud.wait()
    tries = cloud.trace.invocations.records
    assert [r.attempt for r in tries] == [1, 2, 3]
    assert len({r.request_id for r in tries}) == 1  # AWS keeps the request id across retries
    gaps = [b.start - a.end for a, b in zip(tries, tries[1:], strict=False)]
    speedup = cloud.clock.speedup
    assert 50 / speedup < gaps[0] < 90 / speedup and 100 / speedup < gaps[1] < 170 / speedup
    assert [r.outcome for r in cloud.trace.filter(kind="drop")] == ["RetriesExhausted"]


def test_maximum_retry_attempts_and_an_on_failure_destination(cloud):
    url, arn = queue("failures")
    cloud.function("fails", failing)
    boto3.client("lambda").put_function_event_invoke_config(
        FunctionName="fails", MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": arn}})
    boto3.client("lambda").invoke(FunctionName="fails", InvocationType="Event", Payload=b'{"n": 7}')
    cloud.wait()
    assert len(cloud.trace.invocations) == 1
    (message,) = messages(url)
    record = json.loads(message["Body"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert record["requestPayload"] == {"n": 7}
    assert record["responseContext"]["functionError"] == "Unhandled"
    assert record["responsePayload"]["errorMessage"] == "cannot handle 7"
    (dead,) = cloud.trace.filter(kind="dead-letter").records
    assert dead.destination == "queue:failures"


def test_dead_letter_queue_gets_the_original_event_with_the_error_in_attributes(cloud):
    url, arn = queue("fails-dlq")
    fn = cloud.function("fails", failing, dead_letter_arn=arn)
    assert boto3.client("lambda").get_function_configuration(FunctionName="fails")["DeadLetterConfig"] == {
        "TargetArn": arn}
    fn.invoke_async({"n": 3})
    cloud.wait()
    (message,) = messages(url)
    assert json.loads(message["Body"]) == {"n": 3}
    attributes = message["MessageAttributes"]
    assert attributes["ErrorMessage"]["StringValue"] == "cannot handle 3"
    assert attributes["ErrorCode"]["StringValue"] == "200"
    assert len(cloud.trace.invocations) == 3


def test_dlq_set_with_update_function_configuration_and_sns_destination(cloud):
    sns = boto3.client("sns")
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    received = []
    alarm = cloud.function("alarm", lambda e, c: received.append(json.loads(e["Records"][0]["Sns"]["Message"])))
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=alarm.arn)
    fn = cloud.function("fails", failing)
    boto3.client("lambda").update_function_configuration(FunctionName="fails", DeadLetterConfig={"TargetArn": topic})
    boto3.client("lambda").put_function_event_invoke_config(FunctionName="fails", MaximumRetryAttempts=1)
    fn.invoke_async({"n": 5})
    cloud.wait()
    assert received == [{"n": 5}]
    assert len(cloud.trace.filter(kind="invoke", function="fails")) == 2


def test_on_success_destination_to_another_function(cloud):
    got = []
    after = cloud.function("after", lambda e, c: got.append(e))
    cloud.function("works", lambda e, c: {"total": e["a"] + e["b"]})
    boto3.client("lambda").put_function_event_invoke_config(
        FunctionName="works", DestinationConfig={"OnSuccess": {"Destination": after.arn}})
    boto3.client("lambda").invoke(FunctionName="works", InvocationType="Event", Payload=b'{"a": 1, "b": 2}')
    cloud.wait()
    (record,) = got
    assert record["requestContext"]["condition"] == "Success"
    assert record["responsePayload"] == {"total": 3}


def test_maximum_event_age_drops_old_events():
    with Cloud(timing=100) as cloud:  # a slower classroom clock keeps the age check well clear of jitter
        url, arn = queue("too-old")
        cloud.function("fails", failing)
        boto3.client("lambda").put_function_event_invoke_config(
            FunctionName="fails", MaximumEventAgeInSeconds=90, DestinationConfig={"OnFailure": {"Destination": arn}})
        boto3.client("lambda").invoke(FunctionName="fails", InvocationType="Event", Payload=b'{"n": 1}')
        cloud.wait(timeout=20)
        (message,) = messages(url)
        assert json.loads(message["Body"])["requestContext"]["condition"] == "EventAgeExceeded"
        # tried at 0 s and ~60 s; the third try (~180 s) would be past the 90 s age
        assert len(cloud.trace.invocations) == 2


def test_throttled_async_events_wait_and_do_not_use_up_attempts(cloud):
    import time

    fn = cloud.function("single", lambda e, c: time.sleep(0.05) or e["n"], reserved_concurrency=1)
    for n in range(4):
        fn.invoke_async({"n": n})
    cloud.wait()
    invocations = cloud.trace.invocations.records
    assert sorted(r.outcome for r in invocations) == ["success"] * 4
    assert all(r.attempt == 1 for r in invocations)
    assert len(cloud.trace.filter(kind="throttle")) >= 1
    assert len({r.environment for r in invocations}) == 1


def test_recursive_loops_are_stopped_like_lambda_does(cloud):
    def loops(event, context):
        boto3.client("lambda").invoke(FunctionName="loops", InvocationType="Event", Payload=json.dumps(event))

    fn = cloud.function("loops", loops)
    fn.invoke_async({"hello": "again"})
    cloud.wait()
    assert len(cloud.trace.invocations) == 16
    (stopped,) = cloud.trace.filter(kind="drop").records
    assert stopped.outcome == "RecursiveInvocationLoop"
