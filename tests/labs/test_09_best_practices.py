"""Checks for lab 09 — best practices (``solutions/09-best-practices.ipynb``)."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from types import SimpleNamespace

from localcloud import HandlerError, WaitTimeout
from localcloud.grading import Exercises, handler_errors

EXERCISES = Exercises("09-best-practices")




def create_table(cloud, name: str) -> None:
    cloud.client("dynamodb").create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])


def ledger_balance(cloud) -> Decimal:
    item = cloud.resource("dynamodb").Table("Ledger").get_item(Key={"id": "shop"}).get("Item")
    return Decimal(item["balance"]) if item else Decimal(0)


# -- exercise 1 ----------------------------------------------------------------------------------
@EXERCISES.check(
    1,
    "a conditional write",
    hint="payments.put_item(Item={'id': event['payment_id'], 'amount': event['amount']}, "
    "ConditionExpression='attribute_not_exists(id)') — the condition names the table's key attribute, 'id'.",
    solution="put_item with ConditionExpression='attribute_not_exists(id)': of concurrent writers exactly one wins.",
)
def check_record_payment(ns, cloud):
    create_table(cloud, "Payments")
    create_table(cloud, "Ledger")
    fn = cloud.function("record-payment", ns.record_payment)
    first = fn.invoke({"payment_id": "p-1", "amount": 30})
    assert first == {"status": "charged"}, f"the first delivery should return {{'status': 'charged'}}, got {first!r}"
    second = fn.invoke({"payment_id": "p-1", "amount": 30})
    assert second == {"status": "duplicate"}, (
        f"a duplicate delivery should return {{'status': 'duplicate'}}, got {second!r} — is the put_item conditional?")
    for _ in range(4):  # four deliveries at the same moment
        fn.invoke_async({"payment_id": "p-2", "amount": 50})
    cloud.wait()
    errors = handler_errors(cloud, "record-payment")
    assert not errors, f"record_payment failed: {errors[0]}"
    balance = ledger_balance(cloud)
    assert balance == 80, f"the ledger should hold 30 + 50 = 80 (each payment once), it holds {balance}"
    item = cloud.resource("dynamodb").Table("Payments").get_item(Key={"id": "p-1"}).get("Item")
    assert item and item.get("amount") == 30, "Payments should hold {'id': 'p-1', 'amount': 30}"


EX1 = """# Exercise 1
import boto3
def record_payment(event, context):
    payments = boto3.resource("dynamodb").Table("Payments")
    try:
        PUT
    except payments.meta.client.exceptions.ConditionalCheckFailedException:
        return {"status": "duplicate"}
    boto3.resource("dynamodb").Table("Ledger").update_item(
        Key={"id": "shop"}, UpdateExpression="ADD balance :amount",
        ExpressionAttributeValues={":amount": event["amount"]})
    return {"status": "charged"}
"""
EXERCISES.known_wrong(
    1, EX1.replace("PUT", 'payments.put_item(Item={"id": event["payment_id"], "amount": event["amount"]})'),
    reason="a duplicate delivery should return {'status': 'duplicate'}",
)
EXERCISES.known_wrong(
    1, EX1.replace("PUT", 'payments.put_item(Item={"id": event["payment_id"], "amount": event["amount"]}, '
                          'ConditionExpression="attribute_not_exists(payment_id)")'),
    reason="a duplicate delivery should return {'status': 'duplicate'}",
)


# -- exercise 2 ----------------------------------------------------------------------------------
class FakeContext:
    def __init__(self, remaining_ms: int) -> None:
        self.deadline = time.monotonic() + remaining_ms / 1000

    def get_remaining_time_in_millis(self) -> int:
        return max(int((self.deadline - time.monotonic()) * 1000), 0)


class Dependency:
    def __init__(self, failures: int, error: type[Exception]) -> None:
        self.failures, self.error, self.calls = failures, error, []

    def __call__(self):
        self.calls.append(time.monotonic())
        if len(self.calls) <= self.failures:
            raise self.error(f"attempt {len(self.calls)} failed")
        return "ok"


def no_sleep(policy):
    """The same policy without its sleeps (fast checks of what it retries and how often)."""
    copy = getattr(policy, "copy", None)
    assert callable(copy), f"retry_policy(context) should return a tenacity.Retrying, got {type(policy).__name__}"
    return copy(sleep=lambda seconds: None)


@EXERCISES.check(
    2,
    "a retry policy that respects the time budget",
    hint="Retrying(retry=retry_if_exception_type(TransientError), wait=wait_exponential_jitter(multiplier=0.05, "
    "max=0.5, jitter=0.05), stop=stop_after_attempt(6) | stop_before_delay(budget), reraise=True), with "
    "budget = context.get_remaining_time_in_millis() / 1000 - 0.3.",
    solution="only TransientError, exponential backoff with jitter, 6 attempts or the budget (remaining time "
    "minus 300 ms, stop_before_delay), reraise=True.",
)
def check_retry_policy(ns, cloud):
    transient, validation = ns.TransientError, ns.ValidationError
    flaky = Dependency(2, transient)
    result = no_sleep(ns.retry_policy(FakeContext(60_000)))(flaky)
    assert result == "ok" and len(flaky.calls) == 3, (
        f"two TransientErrors then success should return 'ok' after 3 attempts, got {result!r} after {len(flaky.calls)}")
    invalid = Dependency(99, validation)
    try:
        no_sleep(ns.retry_policy(FakeContext(60_000)))(invalid)
    except validation:
        pass
    except Exception as exc:  # noqa: BLE001 - any other outcome is the student's to fix
        raise AssertionError(f"a ValidationError should be raised as it is, got {type(exc).__name__}") from None
    assert len(invalid.calls) == 1, f"a ValidationError should not be retried, it was tried {len(invalid.calls)} times"
    down = Dependency(99, transient)
    try:
        no_sleep(ns.retry_policy(FakeContext(60_000)))(down)
    except transient:
        pass
    except Exception as exc:  # noqa: BLE001
        raise AssertionError(f"after the last attempt the TransientError itself should be raised (reraise=True), "
                             f"got {type(exc).__name__}") from None
    assert len(down.calls) == 6, f"at most 6 attempts should be made, {len(down.calls)} were"

    policy = ns.retry_policy(FakeContext(60_000))
    waits = {n: [policy.wait(SimpleNamespace(attempt_number=n, outcome=None, seconds_since_start=0.0))
                 for _ in range(20)] for n in (1, 4)}
    assert len(set(waits[1])) > 1, f"the waits have no jitter: the first wait is always {waits[1][0]!r} s"
    assert max(waits[1]) <= 0.2, f"the first wait should be around 50 ms, it was up to {max(waits[1]):.2f} s"
    assert sum(waits[4]) > sum(waits[1]), "the waits should grow from attempt to attempt (exponential backoff)"

    always_down = Dependency(99, transient)
    fn = cloud.function("fetch-quote", lambda event, context: ns.retry_policy(context)(always_down), timeout=1)
    try:
        fn.invoke({})
        raise AssertionError("a dependency that is always down should make the function fail")
    except HandlerError as error:
        assert error.error_type != "Sandbox.Timedout", (
            "the function timed out: stop before the budget (remaining time - 300 ms) is spent (stop_before_delay)")
        assert error.error_type == transient.__name__, (
            f"the function should end with the TransientError, got {error.error_type}: {error.error_message}")
    spent = always_down.calls[-1] - always_down.calls[0]
    assert spent <= 0.75, f"the last attempt came {spent:.2f} s after the first: past the 0.7 s budget"
    assert len(always_down.calls) >= 3, f"within a 0.7 s budget the policy should try more than {len(always_down.calls)} times"


EX2 = """# Exercise 2
def retry_policy(context):
    budget = max(context.get_remaining_time_in_millis() / 1000 - 0.3, 0)
    return Retrying(RETRY, WAIT, STOP, reraise=True)
"""
RETRY, WAIT = "retry=retry_if_exception_type(TransientError)", "wait=wait_exponential_jitter(multiplier=0.05, max=0.5, jitter=0.05)"
STOP = "stop=stop_after_attempt(6) | stop_before_delay(budget)"
EXERCISES.known_wrong(
    2, EX2.replace("RETRY", "retry=retry_if_exception_type(Exception)").replace("WAIT", WAIT).replace("STOP", STOP),
    reason="a ValidationError should not be retried",
)
EXERCISES.known_wrong(
    2, EX2.replace("RETRY", RETRY).replace("WAIT", "wait=wait_exponential(multiplier=0.05, max=0.5)").replace("STOP", STOP),
    reason="the waits have no jitter",
)
EXERCISES.known_wrong(
    2, EX2.replace("RETRY", RETRY).replace("WAIT", "wait=wait_exponential_jitter(multiplier=0.2, max=2, jitter=0.05)")
    .replace("STOP", "stop=stop_after_attempt(6)"),
    reason="the first wait should be around 50 ms",
)
EXERCISES.known_wrong(
    2, EX2.replace("RETRY", RETRY).replace("WAIT", WAIT).replace("STOP", "stop=stop_after_attempt(6)"),
    reason="the function timed out",
)


# -- exercise 3 ----------------------------------------------------------------------------------
PAYMENTS = [("p-1", 10), ("p-2", 20), ("p-1", 10), ("p-3", -5), ("p-4", 40), ("p-2", 20)]


@EXERCISES.check(
    3,
    "idempotent payments from a queue",
    hint="Decorate charge with @idempotent_function(data_keyword_argument='payment', persistence_store=persistence, "
    "config=config); in the handler call charge(payment=json.loads(record['body'])) in a try, collect "
    "{'itemIdentifier': record['messageId']} for failures and return {'batchItemFailures': [...]}; the queue's "
    "RedrivePolicy is a JSON string {'deadLetterTargetArn': <payments-dlq ARN>, 'maxReceiveCount': '5'}.",
    solution="Powertools' idempotent_function keyed on payment_id, a partial batch response, and a redrive "
    "policy with maxReceiveCount 5 to payments-dlq.",
)
def check_payments(ns, cloud):
    queue_url = ns.wire_up(cloud)
    assert isinstance(queue_url, str) and queue_url.endswith("/payments"), (
        f"wire_up should return the URL of the queue 'payments', got {queue_url!r}")
    sqs = cloud.client("sqs")
    queues = [url.rsplit("/", 1)[-1] for url in sqs.list_queues().get("QueueUrls", [])]
    assert "payments-dlq" in queues, f"wire_up should create the queue 'payments-dlq' (queues: {queues})"
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    assert "RedrivePolicy" in attributes, "the queue 'payments' needs a RedrivePolicy to 'payments-dlq'"
    mappings = cloud.client("lambda").list_event_source_mappings(FunctionName="process-payments")["EventSourceMappings"]
    assert mappings, "no event source mapping from 'payments' to the function 'process-payments'"
    for payment_id, amount in PAYMENTS:
        sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps({"payment_id": payment_id, "amount": amount}))
    try:
        cloud.wait(timeout=20)
    except WaitTimeout:
        handler_errors(cloud, "process-payments")
        raise AssertionError("the messages never settled: does 'payments' redrive to 'payments-dlq' after 5 receives?") from None
    errors = [e for e in handler_errors(cloud, "process-payments")]
    balance = ledger_balance(cloud)
    assert balance == 70, (
        f"the ledger should hold 10 + 20 + 40 = 70 (each valid payment once, the malformed one never), it holds {balance}"
        + (f"; the handler failed: {errors[0]}" if errors else ""))
    dlq_url = sqs.get_queue_url(QueueName="payments-dlq")["QueueUrl"]
    dead = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10).get("Messages", [])
    dead_ids = sorted(json.loads(m["Body"]).get("payment_id") for m in dead)
    assert dead_ids == ["p-3"], (
        f"'payments-dlq' should hold only the malformed payment p-3, it holds {dead_ids} — "
        "report only the failed records (batchItemFailures)?")
    records = cloud.client("dynamodb").scan(TableName="IdempotencyTable")["Items"]
    completed = [r for r in records if r.get("status", {}).get("S") == "COMPLETED"]
    assert len(completed) >= 3, (
        f"IdempotencyTable should hold a COMPLETED record per valid payment, found {len(completed)} — "
        "is charge decorated with @idempotent_function?")


EX3 = '''# Exercise 3
persistence = DynamoDBPersistenceLayer(table_name="IdempotencyTable")
config = IdempotencyConfig(event_key_jmespath="payment_id")


DECORATOR
def charge(payment):
    if payment["amount"] <= 0:
        raise ValueError(f"payment {payment['payment_id']} has amount {payment['amount']}")
    boto3.resource("dynamodb").Table("Ledger").update_item(
        Key={"id": "shop"}, UpdateExpression="ADD balance :amount",
        ExpressionAttributeValues={":amount": payment["amount"]})
    return {"charged": payment["payment_id"]}


def process_payments(event, context):
    config.register_lambda_context(context)
    failures = []
    for record in event["Records"]:
        try:
            charge(payment=json.loads(record["body"]))
        except Exception:
            failures.append({"itemIdentifier": record["messageId"]})
    return RESPONSE


def wire_up(cloud):
    dynamodb = cloud.client("dynamodb")
    for name in ("IdempotencyTable", "Ledger"):
        dynamodb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                              KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                              AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
    sqs = cloud.client("sqs")
    dlq_url = sqs.create_queue(QueueName="payments-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue_url = sqs.create_queue(QueueName="payments", Attributes={
        "VisibilityTimeout": "60",
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "5"}),
    })["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    cloud.function("process-payments", process_payments)
    cloud.client("lambda").create_event_source_mapping(
        EventSourceArn=queue_arn, FunctionName="process-payments", FunctionResponseTypes=["ReportBatchItemFailures"])
    return queue_url
'''
DECORATOR = ('@idempotent_function(data_keyword_argument="payment", persistence_store=persistence, config=config)')
RESPONSE = '{"batchItemFailures": failures}'
EXERCISES.known_wrong(
    3, EX3.replace("DECORATOR", "").replace("RESPONSE", RESPONSE),
    reason="the ledger should hold 10 + 20 + 40 = 70",
)
EXERCISES.known_wrong(  # failures swallowed: the malformed payment is "processed" and never dead-lettered
    3, EX3.replace("DECORATOR", DECORATOR).replace("RESPONSE", '{"batchItemFailures": []}'),
    reason="'payments-dlq' should hold only the malformed payment p-3, it holds []",
)
