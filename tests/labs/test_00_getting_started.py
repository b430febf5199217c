"""Checks for lab 00 — getting started (``solutions/00-getting-started.ipynb``)."""

from __future__ import annotations

import json

from localcloud.grading import Exercises, handler_errors

EXERCISES = Exercises("00-getting-started")




# -- exercise 1 ----------------------------------------------------------------------------------
@EXERCISES.check(
    1,
    "a first handler",
    hint="Return a dict: {'statusCode': 200, 'body': json.dumps({'message': ...})}; "
    "read the name with event.get('name', 'world').",
    solution="an API-style response: statusCode 200 and a JSON string body with the greeting.",
)
def check_greet(ns, cloud):
    fn = cloud.function("greet", ns.greet)
    for event, name in (({"name": "Ada"}, "Ada"), ({}, "world")):
        response = fn.invoke(event)
        assert isinstance(response, dict), f"greet should return a dict, got {type(response).__name__}"
        assert response.get("statusCode") == 200, f"statusCode should be 200, got {response.get('statusCode')!r}"
        body = response.get("body")
        assert isinstance(body, str), f"body must be a JSON string (use json.dumps), got {type(body).__name__}"
        try:
            message = json.loads(body).get("message")
        except (ValueError, AttributeError):
            raise AssertionError(f"body must be a JSON object like {{\"message\": ...}}, got {body!r}") from None
        want = f"Hello, {name}!"
        assert message == want, f"for event {event} the message should be {want!r}, got {message!r}"


EXERCISES.known_wrong(
    1,
    "# Exercise 1\ndef greet(event, context):\n    return {'message': f\"Hello, {event.get('name', 'world')}!\"}\n",
    reason="statusCode should be 200, got None",
)
EXERCISES.known_wrong(
    1,
    "# Exercise 1\ndef greet(event, context):\n"
    "    return {'statusCode': 200, 'body': {'message': f\"Hello, {event['name']}!\"}}\n",
    reason="body must be a JSON string",
)
EXERCISES.known_wrong(
    1,
    "# Exercise 1\nimport json\ndef greet(event, context):\n"
    "    return {'statusCode': 200, 'body': json.dumps({'message': f\"Hello, {event['name']}!\"})}\n",
    reason="raised KeyError: 'name'",
)


# -- exercise 2 ----------------------------------------------------------------------------------
def sns_event(cloud, messages: list[str]) -> dict:
    """A real SNS → Lambda event from the local cloud (one record per delivery, as on AWS), with
    the records of several deliveries put together so a handler must loop over them."""
    seen: list[dict] = []
    probe = cloud.function("probe", lambda event, context: seen.append(event))
    sns = cloud.client("sns")
    topic = sns.create_topic(Name="lab00-probe")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=probe.arn)
    for message in messages:
        sns.publish(TopicArn=topic, Message=message)
    cloud.wait()
    records = [r for event in seen for r in event["Records"]]
    records.sort(key=lambda r: messages.index(r["Sns"]["Message"]))
    return {"Records": records}


@EXERCISES.check(
    2,
    "read an SNS event",
    hint="Loop over event['Records']; each record's text is record['Sns']['Message'].",
    solution="[record['Sns']['Message'] for record in event['Records']]",
)
def check_messages(ns, cloud):
    fn = cloud.function("messages", ns.messages)
    one = sns_event(cloud, ["order 1 placed"])
    got = fn.invoke(one)
    assert got == ["order 1 placed"], f"for one SNS record the result should be ['order 1 placed'], got {got!r}"
    many = sns_event(cloud, ["a", "b", "c"])
    got = fn.invoke(many)
    assert got == ["a", "b", "c"], f"for three records the result should be ['a', 'b', 'c'] in order, got {got!r}"
    assert fn.invoke({"Records": []}) == [], "an event with no records should give []"


EXERCISES.known_wrong(
    2,
    "# Exercise 2\ndef messages(event, context):\n    return [event['Records'][0]['Sns']['Message']]\n",
    reason="for three records the result should be ['a', 'b', 'c']",
)
EXERCISES.known_wrong(
    2,
    "# Exercise 2\ndef messages(event, context):\n    return [r['Sns'] for r in event['Records']]\n",
    reason="should be ['order 1 placed']",
)


# -- exercise 3 ----------------------------------------------------------------------------------
@EXERCISES.check(
    3,
    "wire a topic to a function and a table",
    hint="In wire_up: create_table (hash key 'id', PAY_PER_REQUEST), create_topic, cloud.function('welcome', "
    "welcome), then sns.subscribe(TopicArn=..., Protocol='lambda', Endpoint=fn.arn); return the topic ARN.",
    solution="the handler puts {'id': record['Sns']['MessageId'], 'message': record['Sns']['Message']} per record.",
)
def check_wire_up(ns, cloud):
    topic = ns.wire_up(cloud)
    assert isinstance(topic, str) and topic.startswith("arn:aws:sns:"), f"wire_up should return the topic ARN, got {topic!r}"
    dynamodb = cloud.client("dynamodb")
    tables = dynamodb.list_tables()["TableNames"]
    assert "greetings" in tables, f"wire_up should create a DynamoDB table named 'greetings' (tables: {tables})"
    sns = cloud.client("sns")
    sent = ["welcome Ada", "welcome Grace", "welcome Ada"]
    ids = [sns.publish(TopicArn=topic, Message=m)["MessageId"] for m in sent]
    cloud.wait()
    errors = handler_errors(cloud, "welcome")
    assert not errors, f"the function 'welcome' failed: {errors[0]}"
    items = dynamodb.scan(TableName="greetings")["Items"]
    assert len(items) == 3, (
        f"after 3 messages the table should hold 3 items (one per SNS MessageId), found {len(items)}"
        + (" — is the function subscribed to the topic?" if not items else "")
    )
    stored = {item.get("id", {}).get("S"): item.get("message", {}).get("S") for item in items}
    assert stored == dict(zip(ids, sent, strict=True)), "each item should be {'id': MessageId, 'message': Message}"


WIRE_UP = """
def wire_up(cloud):
    cloud.client("dynamodb").create_table(
        TableName="greetings", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
    sns = cloud.client("sns")
    topic = sns.create_topic(Name="signups")["TopicArn"]
    fn = cloud.function("welcome", welcome)
    SUBSCRIBE
    return topic
"""
SUBSCRIBE = 'sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=fn.arn)'
EXERCISES.known_wrong(
    3,
    "# Exercise 3\nimport boto3\ndef welcome(event, context):\n    table = boto3.resource('dynamodb').Table('greetings')\n"
    "    for r in event['Records']:\n        table.put_item(Item={'id': r['Sns']['MessageId'], 'message': r['Sns']['Message']})\n"
    + WIRE_UP.replace("SUBSCRIBE", "pass  # forgot to subscribe"),
    reason="found 0 — is the function subscribed to the topic?",
)
EXERCISES.known_wrong(
    3,
    "# Exercise 3\nimport boto3\ndef welcome(event, context):\n    table = boto3.resource('dynamodb').Table('greetings')\n"
    "    for r in event['Records']:\n        table.put_item(Item={'id': r['Sns']['Message'], 'message': r['Sns']['Message']})\n"
    + WIRE_UP.replace("SUBSCRIBE", SUBSCRIBE),
    reason="the table should hold 3 items (one per SNS MessageId), found 2",
)
EXERCISES.known_wrong(
    3,
    "# Exercise 3\nimport boto3\ndef welcome(event, context):\n    table = boto3.resource('dynamodb').Table('greeting')\n"
    "    for r in event['Records']:\n        table.put_item(Item={'id': r['Sns']['MessageId'], 'message': r['Sns']['Message']})\n"
    + WIRE_UP.replace("SUBSCRIBE", SUBSCRIBE),
    reason="the function 'welcome' failed: ",
)
