"""Best practices: duplicate payments, a flaky provider, a circuit breaker and an on-failure destination.

Payment events arrive asynchronously, each delivered `duplicates` times at once (at-least-once
delivery). ChargeCard calls a payment provider that fails a `failure_rate` share of calls and takes
`latency_ms` per call. With `idempotent` the handler first claims the payment id with a DynamoDB
conditional write (``attribute_not_exists``), so a duplicate charges nothing; without it, every
duplicate charges the card again (``Charges`` counts them). With `breaker`, a circuit breaker opens after
3 failures in a row and later calls fail at once instead of waiting on the provider. Lambda retries a
failed event twice; what still fails lands in the ``payments-failed`` queue (on-failure destination).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from localcloud.demo.scenarios import Knob, Scenario
from localcloud.demo.scenarios._helpers import ensure_table, fails, since, work
from localcloud.trace import Trace

FAILURE_THRESHOLD = 3
RECOVERY_TIMEOUT_S = 0.2  # a breaker's 30-60 s, scaled to the classroom


class ProviderDown(Exception):
    pass


class CircuitOpen(Exception):
    pass


class Breaker:
    """A minimal breaker (the lesson uses the `circuitbreaker` library): closed → open → half-open.

    One breaker for the demo's function; on AWS each execution environment would hold its own.
    """

    def __init__(self) -> None:
        self.failures, self.opened_at, self.lock = 0, None, threading.Lock()

    def call(self, fn):
        with self.lock:
            if self.opened_at is not None and time.monotonic() - self.opened_at < RECOVERY_TIMEOUT_S:
                raise CircuitOpen("payment provider circuit open: failing fast")
        try:
            result = fn()
        except ProviderDown:
            with self.lock:
                self.failures += 1
                if self.failures >= FAILURE_THRESHOLD:
                    self.opened_at = time.monotonic()
            raise
        with self.lock:
            self.failures, self.opened_at = 0, None
        return result


def make_charge(failure_rate: float, latency_ms: float, idempotent: bool, breaker: bool):
    state: dict[str, Any] = {"calls": 0}
    circuit = Breaker() if breaker else None
    lock = threading.Lock()

    def provider(payment_id: str) -> None:
        with lock:
            state["calls"] += 1
            number = state["calls"]
        work(latency_ms)
        if fails(failure_rate, "provider", payment_id, number):
            raise ProviderDown(f"payment provider failed charging {payment_id}")

    def handler(event, context):
        import boto3

        ddb = boto3.client("dynamodb")
        payment_id = event["payment_id"]
        if idempotent:
            try:
                ddb.put_item(TableName="Payments", Item={"payment_id": {"S": payment_id}},
                             ConditionExpression="attribute_not_exists(payment_id)")
            except ddb.exceptions.ConditionalCheckFailedException:
                return {"status": "duplicate ignored"}
        try:
            if circuit is not None:
                circuit.call(lambda: provider(payment_id))
            else:
                provider(payment_id)
        except Exception:
            if idempotent:  # release the claim so Lambda's retry can charge
                ddb.delete_item(TableName="Payments", Key={"payment_id": {"S": payment_id}})
            raise
        ddb.put_item(TableName="Charges", Item={"charge_id": {"S": context.aws_request_id},
                                                "payment_id": {"S": payment_id}})
        return {"status": "charged"}

    return handler


def run(cloud, *, payments: int = 6, duplicates: int = 2, failure_rate: float = 0.2, latency_ms: int = 50,
        idempotent: bool = True, breaker: bool = False) -> Trace:
    first = len(cloud.trace)
    ddb, sqs = cloud.client("dynamodb"), cloud.client("sqs")
    ensure_table(ddb, "Payments", "payment_id")
    ensure_table(ddb, "Charges", "charge_id")
    failed_url = sqs.create_queue(QueueName="payments-failed")["QueueUrl"]
    failed_arn = sqs.get_queue_attributes(QueueUrl=failed_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    fn = cloud.function("ChargeCard", make_charge(failure_rate, latency_ms, idempotent, breaker), timeout=3)
    cloud.client("lambda").put_function_event_invoke_config(
        FunctionName=fn.name, MaximumRetryAttempts=2, DestinationConfig={"OnFailure": {"Destination": failed_arn}})
    for i in range(1, payments + 1):
        for _ in range(duplicates):
            fn.invoke_async({"payment_id": f"pay-{i}", "amount": 10 * i})
    cloud.wait(timeout=20)
    return since(cloud.trace, first)


SCENARIO = Scenario(
    name="best-practices",
    title="Best practices: duplicates, idempotency, circuit breaker, retries → DLQ",
    description=__doc__.strip().splitlines()[0],
    knobs=(
        Knob("payments", "payments", 6, 1, 20, 1),
        Knob("duplicates", "deliveries per payment", 2, 1, 5, 1),
        Knob("failure_rate", "provider failure rate", 0.2, 0.0, 1.0, 0.05),
        Knob("latency_ms", "provider latency (ms)", 50, 0, 300, 10),
        Knob("idempotent", "idempotent (conditional write)", True),
        Knob("breaker", "circuit breaker", False),
    ),
    run=run,
    lesson="notebooks/09-best-practices.ipynb",
)
