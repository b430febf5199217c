"""EventBridge → Lambda: pattern rules and schedules, EventBridge's event shape, target input options."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import boto3
import pytest
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel

from localcloud import trace as tr
from localcloud.sources.eventbridge import next_cron


@pytest.fixture
def events(cloud):
    return boto3.client("events")


def function_arn(name: str) -> str:
    return boto3.client("lambda").get_function(FunctionName=name)["Configuration"]["FunctionArn"]


def order_placed(events, detail: dict | None = None, source: str = "shop") -> None:
    events.put_events(Entries=[{"Source": source, "DetailType": "OrderPlaced",
                                "Detail": json.dumps(detail or {"order": "A1", "total": 30})}])


def test_a_matching_event_reaches_the_lambda_target_in_eventbridge_shape(cloud, events):
    got = []
    cloud.function("billing", lambda event, context: got.append(event))
    events.put_rule(Name="orders", EventPattern=json.dumps({"source": ["shop"], "detail-type": ["OrderPlaced"]}))
    events.put_targets(Rule="orders", Targets=[{"Id": "billing", "Arn": function_arn("billing")}])
    order_placed(events)
    order_placed(events, source="elsewhere")  # does not match
    cloud.wait()
    (event,) = got
    parsed = EventBridgeModel.model_validate(event)
    assert parsed.account == cloud.account_id and parsed.source == "shop" and parsed.detail == {"order": "A1", "total": 30}
    assert parsed.detail_type == "OrderPlaced" and parsed.region == cloud.region
    assert event["time"].endswith("Z")
    (invoke,) = cloud.trace.invocations.records
    assert invoke.source == "bus:default" and invoke.invocation == "async"


def test_input_path_input_transformer_and_constant_input(cloud, events):
    got: dict[str, list] = {"path": [], "transform": [], "constant": []}
    for name in got:
        cloud.function(name, lambda event, context, name=name: got[name].append(event))
    events.put_rule(Name="orders", EventPattern=json.dumps({"source": ["shop"]}))
    events.put_targets(Rule="orders", Targets=[
        {"Id": "1", "Arn": function_arn("path"), "InputPath": "$.detail"},
        {"Id": "2", "Arn": function_arn("transform"), "InputTransformer": {
            "InputPathsMap": {"order": "$.detail.order", "total": "$.detail.total", "account": "$.account"},
            "InputTemplate": '{"id": <order>, "amount": <total>, "note": "order <order> from <account>"}'}},
        {"Id": "3", "Arn": function_arn("constant"), "Input": '{"fixed": true}'},
    ])
    order_placed(events)
    cloud.wait()
    assert got["path"] == [{"order": "A1", "total": 30}]
    assert got["transform"] == [{"id": "A1", "amount": 30, "note": f"order A1 from {cloud.account_id}"}]
    assert got["constant"] == [{"fixed": True}]


def test_sqs_targets_stay_with_moto_next_to_lambda_targets(cloud, events):
    got = []
    cloud.function("billing", lambda event, context: got.append(event))
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="audit")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="orders", EventPattern=json.dumps({"source": ["shop"]}))
    events.put_targets(Rule="orders", Targets=[{"Id": "l", "Arn": function_arn("billing")},
                                               {"Id": "q", "Arn": queue_arn}])
    order_placed(events)
    cloud.wait()
    assert len(got) == 1
    (message,) = sqs.receive_message(QueueUrl=url)["Messages"]
    assert json.loads(message["Body"])["detail"] == {"order": "A1", "total": 30}


def test_a_disabled_rule_delivers_nothing(cloud, events):
    got = []
    cloud.function("billing", lambda event, context: got.append(event))
    events.put_rule(Name="orders", EventPattern=json.dumps({"source": ["shop"]}), State="DISABLED")
    events.put_targets(Rule="orders", Targets=[{"Id": "billing", "Arn": function_arn("billing")}])
    order_placed(events)
    cloud.wait()
    assert got == []


def test_a_failing_target_follows_the_async_retry_rules(cloud, events):
    cloud.function("billing", lambda event, context: 1 / 0)
    events.put_rule(Name="orders", EventPattern=json.dumps({"source": ["shop"]}))
    events.put_targets(Rule="orders", Targets=[{"Id": "billing", "Arn": function_arn("billing")}])
    order_placed(events)
    cloud.wait()
    assert cloud.trace.outcomes() == {"error": 3}  # one attempt and AWS's two retries
    assert len(cloud.trace.filter(kind=tr.RETRY)) == 2


def test_a_rate_schedule_fires_on_the_classroom_clock(cloud, events):
    got = []
    cloud.function("tick", lambda event, context: got.append(event))
    events.put_rule(Name="every-minute", ScheduleExpression="rate(1 minute)")
    events.put_targets(Rule="every-minute", Targets=[{"Id": "t", "Arn": function_arn("tick")}])
    cloud.wait()  # a schedule alone does not keep wait() busy
    before = len(got)
    time.sleep(cloud.clock.real(60) * 4.5)  # four and a half AWS minutes
    events.remove_targets(Rule="every-minute", Ids=["t"])
    cloud.wait()
    assert 3 <= len(got) - before <= 5
    parsed = EventBridgeModel.model_validate(got[0])
    assert parsed.detail_type == "Scheduled Event" and parsed.source == "aws.events"
    assert parsed.resources == [f"arn:aws:events:{cloud.region}:{cloud.account_id}:rule/every-minute"]
    minutes = [datetime.fromisoformat(e["time"].replace("Z", "+00:00")) for e in got]
    assert all(60 <= (b - a).total_seconds() <= 61 for a, b in zip(minutes, minutes[1:], strict=False))


def test_cron_expressions_follow_aws_six_field_syntax():
    start = datetime(2024, 1, 1, 10, 7, tzinfo=UTC)  # a Monday
    assert next_cron("cron(0/15 * * * ? *)", start) == datetime(2024, 1, 1, 10, 15, tzinfo=UTC)
    assert next_cron("cron(0 9 ? * MON-FRI *)", start) == datetime(2024, 1, 2, 9, 0, tzinfo=UTC)
    assert next_cron("cron(30 8 1 * ? *)", start) == datetime(2024, 2, 1, 8, 30, tzinfo=UTC)
    assert next_cron("cron(0 12 ? * SUN *)", start) == datetime(2024, 1, 7, 12, 0, tzinfo=UTC)
