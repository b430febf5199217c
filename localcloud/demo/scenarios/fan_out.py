"""Fan-out: one "new user" event on an SNS topic, several independent subscribers in parallel.

The seed chapter's example: SendWelcomeEmail, CreateUserProfile, SendToAnalytics and UpdateCRM
each subscribe to ``new-user``. SNS invokes each one asynchronously, so they run side by side on
their own execution environments, and a failing subscriber is retried by Lambda (two more attempts)
without holding up the others; after the last attempt the event goes to the ``new-user-failures``
queue (an on-failure destination), or is dropped without one. Turn up the failure rate to watch
retries and that queue fill; turn off cold starts to see the same run on warm environments.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from localcloud.demo.scenarios import Knob, Scenario
from localcloud.demo.scenarios._helpers import ensure_table, fails, since, work
from localcloud.trace import Trace

SUBSCRIBERS = ("SendWelcomeEmail", "CreateUserProfile", "SendToAnalytics", "UpdateCRM",
               "SendSlackAlert", "StartTrial", "TagSegment", "AuditLog")
SLOW = "UpdateCRM"  # the subscriber the `slow_ms` knob slows down


def make_handler(name: str, latency_ms: float, failure_rate: float, slow_ms: float = 0):
    """A real SNS-triggered Lambda handler for subscriber `name`.

    It fails (raises) for a `failure_rate` share of (user, attempt) pairs, chosen the same way every
    run, so a retry may succeed where the first attempt failed — as a flaky downstream would.
    UpdateCRM takes `slow_ms` longer than the others: the lesson's slow subscriber (a slow CRM).
    """
    attempts: dict[str, int] = {}
    lock = threading.Lock()
    state: dict[str, Any] = {}

    def handler(event, context):
        user = json.loads(event["Records"][0]["Sns"]["Message"])
        with lock:
            attempts[user["user_id"]] = attempt = attempts.get(user["user_id"], 0) + 1
        work(latency_ms + (slow_ms if name == SLOW else 0))
        if name == "CreateUserProfile" and not user.get("warm_up"):
            if "ddb" not in state:
                import boto3

                state["ddb"] = boto3.client("dynamodb")
            state["ddb"].put_item(TableName="Users", Item={"user_id": {"S": user["user_id"]},
                                                           "email": {"S": user["email"]}})
        if not user.get("warm_up") and fails(failure_rate, name, user["user_id"], attempt):
            raise RuntimeError(f"{name}: downstream unavailable for {user['user_id']}")
        return {"ok": True, "user": user["user_id"]}

    handler.__name__ = f"{name}_handler"
    return handler


def run(cloud, *, subscribers: int = 4, users: int = 1, latency_ms: int = 50, failure_rate: float = 0.0,
        cold_starts: bool = True, on_failure_queue: bool = True, slow_ms: int = 0) -> Trace:
    first = len(cloud.trace)  # this run's records only, should the cloud hold earlier ones
    sns = cloud.client("sns")
    lam = cloud.client("lambda")
    failures_arn = None
    # where Lambda sends an event after its last failed attempt; with no failures it would stay
    # empty, so it is only made when something can fail (saves a service start-up in the demo)
    if on_failure_queue and failure_rate > 0:
        sqs = cloud.client("sqs")
        url = sqs.create_queue(QueueName="new-user-failures")["QueueUrl"]
        failures_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    ddb = cloud.client("dynamodb")
    ensure_table(ddb, "Users", "user_id")
    topic = sns.create_topic(Name="new-user")["TopicArn"]
    for name in SUBSCRIBERS[:subscribers]:
        fn = cloud.function(name, make_handler(name, latency_ms, failure_rate, slow_ms), timeout=3, memory=128)
        if failures_arn:
            lam.put_function_event_invoke_config(
                FunctionName=fn.name, DestinationConfig={"OnFailure": {"Destination": failures_arn}})
        sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=fn.arn)
    start = first
    if not cold_starts:  # one warm-up event per subscriber, then show only what follows
        sns.publish(TopicArn=topic, Message=json.dumps({"user_id": "warm-up", "email": "-", "warm_up": True}))
        cloud.wait(timeout=10)
        start = len(cloud.trace)
    for i in range(1, users + 1):
        user = {"user_id": f"user-{i}", "email": f"user{i}@example.com"}
        sns.publish(TopicArn=topic, Message=json.dumps(user), Subject="new-user")
    cloud.wait(timeout=10)
    return since(cloud.trace, start)


SCENARIO = Scenario(
    name="fan-out",
    title="Fan-out: SNS new-user → parallel subscribers",
    description=__doc__.strip().splitlines()[0],
    knobs=(
        Knob("subscribers", "subscribers", 4, 1, len(SUBSCRIBERS), 1),
        Knob("users", "new users", 1, 1, 10, 1),
        Knob("latency_ms", "handler latency (ms)", 50, 0, 500, 10),
        Knob("slow_ms", "UpdateCRM extra latency (ms)", 0, 0, 1000, 50,
             help="one slow subscriber: it sets the end-to-end latency, not the others' latency"),
        Knob("failure_rate", "failure rate", 0.0, 0.0, 1.0, 0.05),
        Knob("cold_starts", "cold starts", True),
        Knob("on_failure_queue", "on-failure queue", True),
    ),
    run=run,
    lesson="notebooks/07-fan-out.ipynb",
)
