"""Checks for lab 07 — fan-out (``solutions/07-fan-out.ipynb``)."""

from __future__ import annotations

import json
import threading
import time

from localcloud import WaitTimeout
from localcloud.grading import Exercises, NotAttempted, handler_errors

EXERCISES = Exercises("07-fan-out")

ADA = {"user_id": "u-1", "email": "ada@example.com", "name": "Ada", "plan": "free"}
GRACE = {"user_id": "u-2", "email": "grace@example.com", "name": "Grace", "plan": "enterprise"}
LINUS = {"user_id": "u-3", "email": "linus@example.com", "name": "Linus", "plan": "pro"}
MARGARET = {"user_id": "u-4", "email": "margaret@example.com", "name": "Margaret", "plan": "enterprise"}




def new_user_topic(cloud) -> tuple[object, str]:
    sns = cloud.client("sns")
    return sns, sns.create_topic(Name="new-user")["TopicArn"]


def sns_events(cloud, users: list[dict]) -> list[dict]:
    """Real SNS → Lambda events from the local cloud, one per published user, in publish order."""
    seen: list[dict] = []
    probe = cloud.function("probe", lambda event, context: seen.append(event))
    sns = cloud.client("sns")
    topic = sns.create_topic(Name="lab07-probe")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=probe.arn)
    for user in users:
        sns.publish(TopicArn=topic, Message=json.dumps(user))
    cloud.wait()
    order = [u["user_id"] for u in users]
    return sorted(seen, key=lambda e: order.index(json.loads(e["Records"][0]["Sns"]["Message"])["user_id"]))


# -- exercise 1 ----------------------------------------------------------------------------------
def welcome(user: dict) -> dict:
    return {"to": user["email"], "subject": f"Welcome, {user['name']}!"}


@EXERCISES.check(
    1,
    "parse the SNS envelope",
    hint="The message is a JSON string: user = json.loads(record['Sns']['Message']); loop over "
    "event['Records'] and append {'to': user['email'], 'subject': f\"Welcome, {user['name']}!\"}.",
    solution="[{'to': u['email'], 'subject': f\"Welcome, {u['name']}!\"} for u in "
    "(json.loads(r['Sns']['Message']) for r in event['Records'])]",
)
def check_welcome_email(ns, cloud):
    fn = cloud.function("SendWelcomeEmail", ns.welcome_email)
    events = sns_events(cloud, [ADA, GRACE])
    got = fn.invoke(events[0])
    assert isinstance(got, list), f"welcome_email should return a list of emails, got {type(got).__name__}"
    assert got == [welcome(ADA)], f"for Ada's sign-up the result should be {[welcome(ADA)]}, got {got!r}"
    both = {"Records": events[0]["Records"] + events[1]["Records"]}
    got = fn.invoke(both)
    assert got == [welcome(ADA), welcome(GRACE)], (
        f"for an event with two records the result should hold two emails in record order, got {got!r}")
    assert fn.invoke({"Records": []}) == [], "an event with no records should give []"


EXERCISES.known_wrong(
    1,
    "# Exercise 1\ndef welcome_email(event, context):\n"
    "    return [{'to': r['Sns']['Message']['email'], 'subject': 'Welcome!'} for r in event['Records']]\n",
    reason="raised TypeError",
)
EXERCISES.known_wrong(
    1,
    "# Exercise 1\nimport json\ndef welcome_email(event, context):\n"
    "    user = json.loads(event['Records'][0]['Sns']['Message'])\n"
    "    return [{'to': user['email'], 'subject': f\"Welcome, {user['name']}!\"}]\n",
    reason="two emails in record order",
)


# -- exercise 2 ----------------------------------------------------------------------------------
@EXERCISES.check(
    2,
    "a filtered subscriber",
    hint="sns.subscribe(..., Protocol='lambda', Attributes={'FilterPolicy': json.dumps({'plan': ['enterprise']}), "
    "'FilterPolicyScope': ...}) — the plan is in the message body, not in message attributes.",
    solution="a filter policy {'plan': ['enterprise']} with FilterPolicyScope 'MessageBody'.",
)
def check_subscribe_enterprise_only(ns, cloud):
    trials: list[str] = []
    fn = cloud.function("StartEnterpriseTrial",
                        lambda event, context: trials.extend(json.loads(r["Sns"]["Message"])["user_id"]
                                                             for r in event["Records"]))
    sns, topic = new_user_topic(cloud)
    arn = ns.subscribe_enterprise_only(sns, topic, fn.arn)
    subs = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert len(subs) == 1, f"subscribe the function once; the topic has {len(subs)} subscriptions"
    assert arn == subs[0]["SubscriptionArn"], f"return the subscription ARN, got {arn!r}"
    assert subs[0]["Protocol"] == "lambda" and subs[0]["Endpoint"] == fn.arn, (
        "subscribe the function itself: Protocol='lambda', Endpoint=function_arn")
    for user in (ADA, GRACE, LINUS, MARGARET):
        sns.publish(TopicArn=topic, Message=json.dumps(user))  # the chapter's publisher: no attributes
    cloud.wait()
    got = sorted(trials)
    if not got:
        policy = sns.get_subscription_attributes(SubscriptionArn=subs[0]["SubscriptionArn"])["Attributes"]
        scope = policy.get("FilterPolicyScope", "MessageAttributes")
        raise AssertionError(
            f"the function received none of the 4 sign-ups (2 are enterprise) — the filter policy's scope "
            f"is {scope}, but the publisher sends no message attributes"
            if scope == "MessageAttributes" else
            "the function received none of the 4 sign-ups (2 are enterprise): check the policy's key and value")
    assert got == ["u-2", "u-4"], (
        f"only the enterprise sign-ups (u-2, u-4) should reach the function; it received {got}")


EXERCISES.known_wrong(
    2,
    "# Exercise 2\nimport json\ndef subscribe_enterprise_only(sns, topic_arn, function_arn):\n"
    "    return sns.subscribe(TopicArn=topic_arn, Protocol='lambda', Endpoint=function_arn,\n"
    "        Attributes={'FilterPolicy': json.dumps({'plan': ['enterprise']})})['SubscriptionArn']\n",
    reason="the publisher sends no message attributes",
)
EXERCISES.known_wrong(
    2,
    "# Exercise 2\ndef subscribe_enterprise_only(sns, topic_arn, function_arn):\n"
    "    return sns.subscribe(TopicArn=topic_arn, Protocol='lambda', Endpoint=function_arn)['SubscriptionArn']\n",
    reason="only the enterprise sign-ups (u-2, u-4) should reach the function",
)


# -- exercise 3 ----------------------------------------------------------------------------------
@EXERCISES.check(
    3,
    "an idempotent subscriber",
    hint="Key on the user, not the message: table.put_item(Item={'user_id': ..., 'balance': 100}, "
    "ConditionExpression='attribute_not_exists(user_id)'), and catch "
    "table.meta.client.exceptions.ConditionalCheckFailedException (a duplicate is not an error).",
    solution="a conditional put on user_id; ConditionalCheckFailedException caught and ignored.",
)
def check_grant_credits(ns, cloud):
    dynamodb = cloud.client("dynamodb")
    dynamodb.create_table(TableName="credits", BillingMode="PAY_PER_REQUEST",
                          KeySchema=[{"AttributeName": "user_id", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "user_id", "AttributeType": "S"}])
    delivered: list[dict] = []

    def grant_credits(event, context):  # the student's handler, with its events kept for re-delivery
        delivered.append(event)
        return ns.grant_credits(event, context)

    fn = cloud.function("GrantCredits", grant_credits)
    sns, topic = new_user_topic(cloud)
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=fn.arn)
    for user in (ADA, GRACE):
        sns.publish(TopicArn=topic, Message=json.dumps(user))
    cloud.wait()
    errors = handler_errors(cloud, "GrantCredits")
    assert not errors, f"the function failed on a first delivery: {errors[0]}"

    def balances() -> dict[str, int]:
        items = dynamodb.scan(TableName="credits")["Items"]
        return {i["user_id"]["S"]: int(i.get("balance", {}).get("N", "-1")) for i in items}

    got = balances()
    assert got == {"u-1": 100, "u-2": 100}, (
        f"after two sign-ups the table should hold u-1 and u-2 with balance 100 each, found {got}")
    dynamodb.update_item(TableName="credits", Key={"user_id": {"S": "u-1"}},
                         UpdateExpression="SET balance = :b", ExpressionAttributeValues={":b": {"N": "70"}})
    ada_event = next(e for e in delivered if '"u-1"' in e["Records"][0]["Sns"]["Message"])
    fn.invoke_async(ada_event)  # the same SNS event again: a duplicate delivery
    cloud.wait()
    errors = handler_errors(cloud, "GrantCredits")
    assert not errors, f"a duplicate delivery made the function fail ({errors[0]}) — a duplicate is not an error"
    got = balances()
    assert got["u-1"] == 70, (
        f"Ada had spent 30 of her 100 credits; after a duplicate delivery of her sign-up her balance should "
        f"still be 70, found {got['u-1']}")
    sns.publish(TopicArn=topic, Message=json.dumps(ADA))  # the sign-up service retried: a new MessageId
    cloud.wait()
    errors = handler_errors(cloud, "GrantCredits")
    assert not errors, f"a re-published sign-up made the function fail: {errors[0]}"
    got = balances()
    assert got == {"u-1": 70, "u-2": 100}, (
        f"Ada's sign-up was published again (a new MessageId, the same user): her balance should stay 70, "
        f"found {got['u-1']} — key the grant on the user, not on the message")


CREDITS = (
    "# Exercise 3\nimport json, boto3\ndef grant_credits(event, context):\n"
    "    table = boto3.resource('dynamodb').Table('credits')\n"
    "    for record in event['Records']:\n"
    "        user = json.loads(record['Sns']['Message'])\n"
)
EXERCISES.known_wrong(
    3,
    CREDITS + "        table.update_item(Key={'user_id': user['user_id']}, UpdateExpression='ADD balance :c',\n"
    "                          ExpressionAttributeValues={':c': 100})\n",
    reason="her balance should still be 70, found 170",
)
EXERCISES.known_wrong(
    3,
    CREDITS + "        table.put_item(Item={'user_id': user['user_id'], 'balance': 100})\n",
    reason="her balance should still be 70, found 100",
)
EXERCISES.known_wrong(
    3,
    CREDITS + "        table.put_item(Item={'user_id': user['user_id'], 'balance': 100},\n"
    "                       ConditionExpression='attribute_not_exists(user_id)')\n",
    reason="a duplicate is not an error",
)
EXERCISES.known_wrong(
    3,
    CREDITS + "        try:\n"
    "            table.put_item(Item={'user_id': user['user_id'], 'balance': 100,\n"
    "                                 'message_id': record['Sns']['MessageId']},\n"
    "                           ConditionExpression='attribute_not_exists(user_id) OR message_id <> :m',\n"
    "                           ExpressionAttributeValues={':m': record['Sns']['MessageId']})\n"
    "        except table.meta.client.exceptions.ConditionalCheckFailedException:\n"
    "            pass\n",
    reason="key the grant on the user, not on the message",
)


# -- exercise 4 ----------------------------------------------------------------------------------
def sqs_event(cloud, users: list[dict]) -> dict:
    """An SQS → Lambda event whose bodies are what SNS really puts in a subscribed queue (no raw delivery)."""
    sns, sqs = cloud.client("sns"), cloud.client("sqs")
    topic = sns.create_topic(Name="lab07-probe")["TopicArn"]
    url = sqs.create_queue(QueueName="lab07-probe")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    for user in users:
        sns.publish(TopicArn=topic, Message=json.dumps(user))
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    order = [u["user_id"] for u in users]
    messages.sort(key=lambda m: order.index(json.loads(json.loads(m["Body"])["Message"])["user_id"]))
    return {"Records": [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                         "attributes": {}, "messageAttributes": {}, "md5OfBody": m["MD5OfBody"],
                         "eventSource": "aws:sqs", "eventSourceARN": arn, "awsRegion": cloud.region}
                        for m in messages]}


class LimitedCRM:
    """A CRM stand-in that refuses a third concurrent call, as a rate-limited API does."""

    def __init__(self, limit: int = 2, latency_s: float = 0.02) -> None:
        self.limit, self.latency_s = limit, latency_s
        self.contacts: list[str] = []
        self.refused = 0
        self._active = 0
        self._lock = threading.Lock()

    def call(self, user_id: str) -> None:
        with self._lock:
            self._active += 1
            refused = self._active > self.limit
            self.refused += refused
        try:
            if refused:
                raise ConnectionError("CRM: 429 Too Many Requests")
            time.sleep(self.latency_s)
            with self._lock:
                self.contacts.append(user_id)
        finally:
            with self._lock:
                self._active -= 1


@EXERCISES.check(
    4,
    "buffer a slow subscriber behind SQS",
    hint="users_in_batch: json.loads(json.loads(record['body'])['Message']) per record. buffer_behind_queue: "
    "create_queue('crm-buffer', Attributes={'VisibilityTimeout': '18'}), sns.subscribe(Protocol='sqs', "
    "Endpoint=queue ARN), lambda.create_event_source_mapping(EventSourceArn=queue ARN, FunctionName=..., "
    "BatchSize=5, ScalingConfig={'MaximumConcurrency': 2}).",
    solution="SNS → SQS (visibility timeout 18 s, queue policy) → event source mapping, batch ≤ 10, "
    "MaximumConcurrency 2.",
)
def check_buffer_behind_queue(ns, cloud):
    probe = sqs_event(cloud, [ADA, GRACE])
    try:
        got = ns.users_in_batch(probe)
    except NotAttempted:
        raise
    except Exception as exc:  # noqa: BLE001 - the student's parser, reported in one line
        raise AssertionError(f"users_in_batch failed on an SQS event from SNS: {type(exc).__name__}: {exc}") from None
    assert got == [ADA, GRACE], (
        f"users_in_batch should return the users inside the SNS envelopes in the SQS bodies, "
        f"[{ADA['user_id']}, {GRACE['user_id']}] as dicts; got {got!r:.200}")
    crm = LimitedCRM()

    def update_crm(event, context):
        for user in ns.users_in_batch(event):
            crm.call(user["user_id"])

    cloud.function("UpdateCRM", update_crm, timeout=3)
    sns, topic = new_user_topic(cloud)
    uuid = ns.buffer_behind_queue(cloud, topic, "UpdateCRM")
    lambda_client = cloud.client("lambda")
    mappings = lambda_client.list_event_source_mappings(FunctionName="UpdateCRM")["EventSourceMappings"]
    assert mappings, "create an event source mapping from the queue to the function (create_event_source_mapping)"
    assert uuid in {m["UUID"] for m in mappings}, f"return the mapping's UUID, got {uuid!r}"
    mapping = next(m for m in mappings if m["UUID"] == uuid)
    assert mapping["EventSourceArn"].endswith(":crm-buffer"), (
        f"the mapping should read the queue crm-buffer, it reads {mapping['EventSourceArn']}")
    assert mapping.get("BatchSize", 10) <= 10, f"use a batch size of at most 10, got {mapping.get('BatchSize')}"
    sqs = cloud.client("sqs")
    url = sqs.get_queue_url(QueueName="crm-buffer")["QueueUrl"]
    visibility = int(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])
                     ["Attributes"]["VisibilityTimeout"])
    assert visibility >= 18, (
        f"the queue's visibility timeout is {visibility} s: make it at least 6 × the function's 3 s timeout (18 s)")
    subs = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert not any(s["Protocol"] == "lambda" for s in subs), (
        "the function is still subscribed to the topic directly: only the queue should be")
    assert any(s["Protocol"] == "sqs" and s["Endpoint"] == mapping["EventSourceArn"] for s in subs), (
        "subscribe the queue to the topic (Protocol='sqs', Endpoint=the queue's ARN)")
    users = [{"user_id": f"u-{i}", "email": f"user{i}@example.com", "name": f"User {i}"} for i in range(12)]
    for user in users:
        sns.publish(TopicArn=topic, Message=json.dumps(user))
    try:
        cloud.wait(timeout=10)
    except WaitTimeout:
        raise AssertionError("UpdateCRM kept failing: its messages keep returning to crm-buffer "
                             f"({(handler_errors(cloud, 'UpdateCRM') or ['?'])[0]})") from None
    errors = handler_errors(cloud, "UpdateCRM")
    if errors and not crm.refused:
        raise AssertionError(f"UpdateCRM failed reading a batch: {errors[0]}")
    assert crm.refused == 0, (
        f"the CRM refused {crm.refused} calls (it allows 2 at a time): cap the mapping with "
        "ScalingConfig={'MaximumConcurrency': 2}")
    got = sorted(set(crm.contacts))
    assert got == sorted(u["user_id"] for u in users), f"all 12 sign-ups should reach the CRM, it holds {len(got)}"
    sources = {r.source for r in cloud.trace.filter(kind="invoke", function="UpdateCRM")}
    assert sources == {"queue:crm-buffer"}, f"UpdateCRM should be invoked by the queue only, was by {sorted(sources)}"
    policy = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"]).get("Attributes", {}).get("Policy", "")
    assert "sns.amazonaws.com" in policy and "sqs:SendMessage" in policy, (
        "it works here, but on AWS SNS could not deliver: give the queue a policy that allows the "
        "service sns.amazonaws.com to sqs:SendMessage (IAM is not enforced in the local cloud)")


BUFFER = '''
def buffer_behind_queue(cloud, topic_arn, function_name):
    sqs, sns, lam = cloud.client("sqs"), cloud.client("sns"), cloud.client("lambda")
    url = sqs.create_queue(QueueName="crm-buffer", Attributes={"VisibilityTimeout": "VISIBILITY"})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)
    return lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=function_name, BatchSize=5
                                           SCALING)["UUID"]
'''
USERS = ("# Exercise 4\nimport json\ndef users_in_batch(event):\n"
         "    return [json.loads(json.loads(r['body'])['Message']) for r in event['Records']]\n")
EXERCISES.known_wrong(
    4,
    USERS + BUFFER.replace("VISIBILITY", "18").replace("SCALING", ""),
    reason="cap the mapping with ScalingConfig",
)
EXERCISES.known_wrong(
    4,
    USERS + BUFFER.replace("VISIBILITY", "5").replace("SCALING", ", ScalingConfig={'MaximumConcurrency': 2}"),
    reason="at least 6 × the function's 3 s timeout",
)
EXERCISES.known_wrong(
    4,
    "# Exercise 4\nimport json\ndef users_in_batch(event):\n"
    "    return [json.loads(r['body']) for r in event['Records']]\n"
    + BUFFER.replace("VISIBILITY", "18").replace("SCALING", ", ScalingConfig={'MaximumConcurrency': 2}"),
    reason="users_in_batch should return the users inside the SNS envelopes",
)
EXERCISES.known_wrong(
    4,
    USERS + '''
def buffer_behind_queue(cloud, topic_arn, function_name):
    sns, lam = cloud.client("sns"), cloud.client("lambda")
    fn = lam.get_function(FunctionName=function_name)["Configuration"]["FunctionArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="lambda", Endpoint=fn)
    return None
''',
    reason="create an event source mapping",
)
EXERCISES.known_wrong(
    4,
    USERS + BUFFER.replace("VISIBILITY", "18").replace("SCALING", ", ScalingConfig={'MaximumConcurrency': 2}"),
    reason="give the queue a policy that allows",
)
