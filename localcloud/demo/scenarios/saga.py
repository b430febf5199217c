"""Saga: reserve inventory → process payment → confirm, undoing completed steps when one fails.

The seed chapter's order saga. Orders arrive one after another; each takes one book from a small
stock (2 by default), so later orders run out (a failure at the first step), and a `decline_rate` share of cards is
declined (a failure at the second). The orchestrator is the chapter's Lambda function as printed
(`chapter_code`: it ignores failed steps and confirms anyway), the fixed one (it checks
`FunctionError` and compensates only the steps that completed), or a Step Functions state machine
whose `Catch` states run the compensations. Watch which compensating functions run, and after what.
"""

from __future__ import annotations

import json
import logging
import time

from localcloud import HandlerError
from localcloud.demo.scenarios import Knob, Scenario
from localcloud.demo.scenarios._helpers import fails, since
from localcloud.trace import Trace

STEPS = ("reserve-inventory", "process-payment", "release-inventory", "refund-payment", "confirm-order")


class OutOfStock(Exception):
    pass


class PaymentDeclined(Exception):
    pass


def _table(name: str):
    import boto3

    return boto3.resource("dynamodb").Table(name)


def reserve_inventory(event, context):
    inventory = _table("Inventory")
    try:
        inventory.update_item(Key={"sku": "book"}, UpdateExpression="ADD stock :minus",
                              ConditionExpression="stock >= :one", ExpressionAttributeValues={":minus": -1, ":one": 1})
    except inventory.meta.client.exceptions.ConditionalCheckFailedException:
        raise OutOfStock(f"no book left for {event['order_id']}") from None
    return {"reserved": 1}


def process_payment(event, context):
    if event.get("declined"):
        raise PaymentDeclined(f"card declined for {event['order_id']}")
    _table("Ledger").update_item(Key={"account": "shop"}, UpdateExpression="ADD balance :amount",
                                 ExpressionAttributeValues={":amount": event["amount"]})
    return {"charged": event["amount"]}


def release_inventory(event, context):
    _table("Inventory").update_item(Key={"sku": "book"}, UpdateExpression="ADD stock :one",
                                    ExpressionAttributeValues={":one": 1})
    return {"released": 1}


def refund_payment(event, context):
    _table("Ledger").update_item(Key={"account": "shop"}, UpdateExpression="ADD balance :minus",
                                 ExpressionAttributeValues={":minus": -event["amount"]})
    return {"refunded": event["amount"]}


def confirm_order(event, context):
    _table("Orders").put_item(Item={"order_id": event["order_id"], "status": "CONFIRMED"})
    return {"status": "CONFIRMED"}


def chapter_saga(event, context):
    """The chapter's orchestrator as printed (with `order = event`): invoke results are never checked."""
    import boto3

    lambda_client = boto3.client("lambda")
    order = event
    try:
        lambda_client.invoke(FunctionName="reserve-inventory", Payload=json.dumps(order))
        lambda_client.invoke(FunctionName="process-payment", Payload=json.dumps(order))
        lambda_client.invoke(FunctionName="confirm-order", Payload=json.dumps(order))
    except Exception:
        lambda_client.invoke(FunctionName="release-inventory", Payload=json.dumps(order))
        lambda_client.invoke(FunctionName="refund-payment", Payload=json.dumps(order))
        raise


def fixed_saga(event, context):
    """Checks FunctionError and compensates only the completed steps, newest first."""
    import boto3

    lambda_client = boto3.client("lambda")

    def step(name: str) -> dict:
        response = lambda_client.invoke(FunctionName=name, Payload=json.dumps(event))
        result = json.loads(response["Payload"].read() or "null")
        if response.get("FunctionError"):
            raise RuntimeError(f"{name}: {result['errorType']}: {result['errorMessage']}")
        return result

    completed: list[str] = []
    try:
        step("reserve-inventory")
        completed.append("release-inventory")
        step("process-payment")
        completed.append("refund-payment")
        step("confirm-order")
    except Exception:
        for compensation in reversed(completed):
            step(compensation)
        raise
    return {"status": "CONFIRMED"}


def definition(arns: dict[str, str]) -> dict:
    """The state machine: each Catch leads to the compensations of the steps completed before it."""
    def catch(next_state: str) -> list[dict]:
        return [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": next_state}]

    return {
        "StartAt": "ReserveInventory",
        "States": {
            "ReserveInventory": {"Type": "Task", "Resource": arns["reserve-inventory"], "ResultPath": "$.reservation",
                                 "Catch": catch("OrderFailed"), "Next": "ProcessPayment"},
            "ProcessPayment": {"Type": "Task", "Resource": arns["process-payment"], "ResultPath": "$.payment",
                               "Catch": catch("ReleaseInventory"), "Next": "ConfirmOrder"},
            "ConfirmOrder": {"Type": "Task", "Resource": arns["confirm-order"], "ResultPath": "$.confirmation",
                             "Catch": catch("RefundPayment"), "End": True},
            "RefundPayment": {"Type": "Task", "Resource": arns["refund-payment"], "ResultPath": None,
                              "Next": "ReleaseInventory"},
            "ReleaseInventory": {"Type": "Task", "Resource": arns["release-inventory"], "ResultPath": None,
                                 "Next": "OrderFailed"},
            "OrderFailed": {"Type": "Fail", "Error": "OrderFailed"},
        },
    }


def _wait_for(sfn, execution_arn: str, timeout: float = 10.0) -> str:
    deadline = time.monotonic() + timeout
    while (status := sfn.describe_execution(executionArn=execution_arn)["status"]) == "RUNNING":
        if time.monotonic() > deadline:
            raise TimeoutError(f"state machine execution still running after {timeout} s")
        time.sleep(0.02)
    return status


def run(cloud, *, orders: int = 4, stock: int = 2, decline_rate: float = 0.25, step_functions: bool = False,
        chapter_code: bool = False) -> Trace:
    # moto logs each failed execution as an ERROR; here a failed saga is an expected outcome
    logging.getLogger("moto.stepfunctions").setLevel(logging.CRITICAL)
    ddb = cloud.client("dynamodb")
    for name, key in (("Inventory", "sku"), ("Ledger", "account"), ("Orders", "order_id")):
        ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                         KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}])
    ddb.put_item(TableName="Inventory", Item={"sku": {"S": "book"}, "stock": {"N": str(stock)}})
    ddb.put_item(TableName="Ledger", Item={"account": {"S": "shop"}, "balance": {"N": "0"}})
    handlers = {"reserve-inventory": reserve_inventory, "process-payment": process_payment,
                "release-inventory": release_inventory, "refund-payment": refund_payment,
                "confirm-order": confirm_order}
    arns = {name: cloud.function(name, handler, timeout=3).arn for name, handler in handlers.items()}
    start = len(cloud.trace)
    batch = [{"order_id": f"o-{i}", "amount": 30, "declined": fails(decline_rate, "gateway", i)}
             for i in range(1, orders + 1)]
    if step_functions:
        sfn = cloud.client("stepfunctions")
        machine = sfn.create_state_machine(name="order-saga", definition=json.dumps(definition(arns)),
                                           roleArn=f"arn:aws:iam::{cloud.account_id}:role/order-saga")
        start = len(cloud.trace)
        for order in batch:
            execution = sfn.start_execution(stateMachineArn=machine["stateMachineArn"], name=order["order_id"],
                                            input=json.dumps(order))
            _wait_for(sfn, execution["executionArn"])
    else:
        saga = cloud.function("create-order-saga", chapter_saga if chapter_code else fixed_saga, timeout=10)
        start = len(cloud.trace)
        for order in batch:  # one order at a time, each a synchronous call the caller sees fail
            try:
                saga.invoke(order)
            except HandlerError:
                pass
    cloud.wait(timeout=10)
    return since(cloud.trace, start)


SCENARIO = Scenario(
    name="saga",
    title="Saga: reserve → pay → confirm, with compensations",
    description=__doc__.strip().splitlines()[0],
    knobs=(
        Knob("orders", "orders", 4, 1, 10, 1),
        Knob("stock", "books in stock", 2, 0, 10, 1),
        Knob("decline_rate", "declined cards", 0.25, 0.0, 1.0, 0.05),
        Knob("step_functions", "Step Functions", False),
        Knob("chapter_code", "chapter's code (Lambda orchestrator)", False),
    ),
    run=run,
    lesson="notebooks/08-saga.ipynb",
)
