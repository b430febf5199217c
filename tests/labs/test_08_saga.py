"""Checks for lab 08 — saga (``solutions/08-saga.ipynb``)."""

from __future__ import annotations

import json
import logging
import threading
import time

from localcloud.grading import Exercises, NotAttempted

EXERCISES = Exercises("08-saga")


def raised(call) -> BaseException | None:
    """The exception `call()` raised (NotAttempted passes through: the exercise is untouched)."""
    try:
        call()
    except NotAttempted:
        raise
    except Exception as exc:  # noqa: BLE001 — any exception is an answer to inspect
        return exc
    return None


# -- exercise 1 ----------------------------------------------------------------------------------
@EXERCISES.check(
    1,
    "check FunctionError",
    hint="invoke does not raise when the handler does: test response.get('FunctionError'), and if it is set "
    "raise StepFailed(f\"{function_name}: {result['errorType']}: {result['errorMessage']}\").",
    solution="if response.get('FunctionError'): raise StepFailed(f\"{function_name}: {result['errorType']}: "
    "{result['errorMessage']}\")",
)
def check_invoke_step(ns, cloud):
    def ok(event, context):
        return {"ok": True, "got": event}

    def declined(event, context):
        raise ValueError(f"card declined for {event['order_id']}")

    cloud.function("ok-step", ok)
    cloud.function("nothing-step", lambda event, context: None)
    cloud.function("failing-step", declined)
    got = ns.invoke_step("ok-step", {"order_id": "o-1"})
    assert got == {"ok": True, "got": {"order_id": "o-1"}}, (
        f"invoke_step('ok-step', ...) should return the function's result, got {got!r}")
    got = ns.invoke_step("nothing-step", {"order_id": "o-1"})
    assert got is None, f"a function that returns None succeeded: invoke_step should return None, got {got!r}"
    error = raised(lambda: ns.invoke_step("failing-step", {"order_id": "o-2"}))
    assert error is not None, (
        "invoke_step('failing-step', ...) should raise StepFailed when the function raised, but it returned "
        "(is it checking StatusCode? That is 200 even when the handler failed)")
    assert isinstance(error, ns.StepFailed), (
        f"invoke_step should raise StepFailed, it raised {type(error).__name__}: {error}")
    message = str(error)
    for part, what in (("failing-step", "the function's name"), ("ValueError", "the error type"),
                       ("card declined for o-2", "the error message")):
        assert part in message, f"the StepFailed message should name {what} ({part!r}), got {message!r}"


EX1 = """# Exercise 1
def invoke_step(function_name, payload):
    response = boto3.client("lambda").invoke(FunctionName=function_name, Payload=json.dumps(payload))
    result = json.loads(response["Payload"].read() or "null")
    CHECK
    return result
"""
EXERCISES.known_wrong(1, EX1.replace("CHECK", "pass  # the chapter: no check at all"),
                      reason="should raise StepFailed when the function raised, but it returned")
EXERCISES.known_wrong(
    1, EX1.replace("CHECK", "if response['StatusCode'] != 200:\n        raise StepFailed(function_name)"),
    reason="is it checking StatusCode?")
EXERCISES.known_wrong(
    1, EX1.replace("CHECK", "if response.get('FunctionError'):\n        raise StepFailed(function_name)"),
    reason="should name the error type")


# -- exercise 2 ----------------------------------------------------------------------------------
class Recorder:
    """Saga steps as plain functions that log what ran; the action of step `fail_at` raises."""

    def __init__(self, names: list[str], fail_at: str | None) -> None:
        self.log: list[str] = []
        self.steps = [(self._action(name, fail_at), self._undo(name)) for name in names]

    def _action(self, name, fail_at):
        def action(order):
            self.log.append(name)
            if name == fail_at:
                raise RuntimeError(f"{name} failed for {order['order_id']}")
            return f"{name} done"
        return action

    def _undo(self, name):
        def compensation(order):
            self.log.append(f"undo {name}")
        return compensation


@EXERCISES.check(
    2,
    "compensate only completed steps",
    hint="Keep a list of the compensations of the actions that returned; in `except`, call them in "
    "reversed() order, then `raise` to re-raise the original exception.",
    solution="results, completed = [], []; try: for action, comp in steps: results.append(action(order)); "
    "completed.append(comp) / except Exception: for comp in reversed(completed): comp(order); raise",
)
def check_run_saga(ns):
    names = ["reserve", "pay", "ship"]
    order = {"order_id": "o-1"}
    ok = Recorder(names, None)
    got = ns.run_saga(order, ok.steps)
    assert ok.log == names, f"with no failure run_saga should run reserve, pay, ship and undo nothing, ran {ok.log}"
    assert got == ["reserve done", "pay done", "ship done"], f"run_saga should return the actions' results, got {got!r}"
    expected = {
        "reserve": ["reserve"],
        "pay": ["reserve", "pay", "undo reserve"],
        "ship": ["reserve", "pay", "ship", "undo pay", "undo reserve"],
    }
    for fail_at, want in expected.items():
        saga = Recorder(names, fail_at)
        error = raised(lambda saga=saga: ns.run_saga(order, saga.steps))
        ran_after = saga.log[len(names[: names.index(fail_at) + 1]):]
        never_ran = [step for step in names[names.index(fail_at):] if f"undo {step}" in ran_after]
        assert not never_ran, (
            f"when '{fail_at}' fails, run_saga compensated {never_ran}, which never completed (log: {saga.log})")
        assert sorted(saga.log) == sorted(want), f"when '{fail_at}' fails the calls should be {want}, got {saga.log}"
        assert saga.log == want, f"compensations run last step first: when '{fail_at}' fails expected {want}, got {saga.log}"
        assert isinstance(error, RuntimeError) and fail_at in str(error), (
            f"when '{fail_at}' fails run_saga should re-raise its exception, "
            + ("but it returned normally" if error is None else f"it raised {type(error).__name__}: {error}"))


EXERCISES.known_wrong(
    2,
    "# Exercise 2\ndef run_saga(order, steps):\n    results = []\n    try:\n"
    "        for action, compensation in steps:\n            results.append(action(order))\n"
    "    except Exception:\n        for action, compensation in steps:\n            compensation(order)\n"
    "        raise\n    return results\n",
    reason="which never completed",
)
EXERCISES.known_wrong(
    2,
    "# Exercise 2\ndef run_saga(order, steps):\n    results, done = [], []\n    try:\n"
    "        for action, compensation in steps:\n            results.append(action(order))\n"
    "            done.append(compensation)\n    except Exception:\n        for compensation in done:\n"
    "            compensation(order)\n        raise\n    return results\n",
    reason="last step first",
)
EXERCISES.known_wrong(
    2,
    "# Exercise 2\ndef run_saga(order, steps):\n    results, done = [], []\n    try:\n"
    "        for action, compensation in steps:\n            results.append(action(order))\n"
    "            done.append(compensation)\n    except Exception:\n        for compensation in reversed(done):\n"
    "            compensation(order)\n    return results\n",
    reason="should re-raise its exception, but it returned normally",
)


# -- exercise 3 ----------------------------------------------------------------------------------
@EXERCISES.check(
    3,
    "an idempotent refund",
    hint="One transact_write_items with two Updates: Payments SET status = REFUNDED with "
    "ConditionExpression '#status = :charged', and Ledger ADD balance -amount. Catch "
    "TransactionCanceledException and return: nothing to refund.",
    solution="a conditional write: flip Payments CHARGED → REFUNDED and subtract the amount in one "
    "transaction; a cancelled transaction means refunded already or never charged.",
)
def check_refund(ns, cloud):
    from localcloud import HandlerError

    ns.create_payment_tables()
    charge = cloud.function("process-payment", ns.process_payment)
    refund = cloud.function("refund-payment", ns.refund_payment)
    ddb = cloud.resource("dynamodb")

    def balance():
        return ddb.Table("Ledger").get_item(Key={"account": "shop"})["Item"]["balance"]

    def status(order_id):
        item = ddb.Table("Payments").get_item(Key={"order_id": order_id}).get("Item")
        return item and item.get("status")

    def refund_ok(order, what):
        try:
            refund.invoke(order)
        except HandlerError as error:
            if "NotAttempted" in (error.error_type or ""):
                raise NotAttempted("exercise 3") from None
            raise AssertionError(f"{what}: refund_payment should succeed and do nothing, it raised "
                                 f"{error.error_type}: {error.error_message}") from None

    charge.invoke({"order_id": "o-1", "amount": 30})
    charge.invoke({"order_id": "o-2", "amount": 20})
    refund_ok({"order_id": "o-1", "amount": 30}, "the first refund of o-1")
    assert balance() == 20, f"after charging 30 + 20 and refunding the 30, the balance should be 20, got {balance()}"
    assert status("o-1") == "REFUNDED", f"after the refund, Payments o-1 should have status REFUNDED, got {status('o-1')!r}"
    refund_ok({"order_id": "o-1", "amount": 30}, "refunding o-1 a second time")
    assert balance() == 20, f"after refunding o-1 twice the balance should still be 20, got {balance()}"
    refund_ok({"order_id": "o-3", "amount": 50}, "refunding o-3, which was never charged")
    assert balance() == 20, f"refunding o-3 (never charged) should change nothing: balance should be 20, got {balance()}"
    assert status("o-3") is None or status("o-3") != "REFUNDED", "o-3 was never charged: do not mark it REFUNDED"
    refund_ok({"order_id": "o-2", "amount": 20}, "the refund of o-2")
    assert balance() == 0, f"after refunding both orders the balance should be 0, got {balance()}"


REFUND_HEAD = "# Exercise 3\nimport boto3\ndef refund_payment(event, context):\n"
EXERCISES.known_wrong(
    3,
    REFUND_HEAD + "    boto3.resource('dynamodb').Table('Ledger').update_item(Key={'account': 'shop'},\n"
    "        UpdateExpression='ADD balance :minus', ExpressionAttributeValues={':minus': -event['amount']})\n"
    "    boto3.resource('dynamodb').Table('Payments').update_item(Key={'order_id': event['order_id']},\n"
    "        UpdateExpression='SET #s = :r', ExpressionAttributeNames={'#s': 'status'},\n"
    "        ExpressionAttributeValues={':r': 'REFUNDED'})\n",
    reason="after refunding o-1 twice the balance should still be 20, got -10",
)
EXERCISES.known_wrong(
    3,
    REFUND_HEAD + "    client = boto3.resource('dynamodb').meta.client\n"
    "    client.transact_write_items(TransactItems=[\n"
    "        {'Update': {'TableName': 'Payments', 'Key': {'order_id': event['order_id']},\n"
    "                    'UpdateExpression': 'SET #s = :r', 'ConditionExpression': '#s = :c',\n"
    "                    'ExpressionAttributeNames': {'#s': 'status'},\n"
    "                    'ExpressionAttributeValues': {':r': 'REFUNDED', ':c': 'CHARGED'}}},\n"
    "        {'Update': {'TableName': 'Ledger', 'Key': {'account': 'shop'}, 'UpdateExpression': 'ADD balance :m',\n"
    "                    'ExpressionAttributeValues': {':m': -event['amount']}}}])\n",
    reason="refunding o-1 a second time: refund_payment should succeed and do nothing, it raised",
)


# -- exercise 4 ----------------------------------------------------------------------------------
FUNCTIONS = ("reserve-inventory", "process-payment", "ship-order", "confirm-order",
             "release-inventory", "refund-payment", "cancel-shipment")
CASES = {  # fail_at → the functions that must run, in order
    None: ["reserve-inventory", "process-payment", "ship-order", "confirm-order"],
    "reserve-inventory": ["reserve-inventory"],
    "process-payment": ["reserve-inventory", "process-payment", "release-inventory"],
    "ship-order": ["reserve-inventory", "process-payment", "ship-order", "refund-payment", "release-inventory"],
    "confirm-order": ["reserve-inventory", "process-payment", "ship-order", "confirm-order", "cancel-shipment",
                      "refund-payment", "release-inventory"],
}


@EXERCISES.check(
    4,
    "a shipping step in the state machine",
    hint="Start from lesson_definition(arns): ProcessPayment's Next becomes ShipOrder; ShipOrder (ResultPath "
    "'$.shipment') goes on to ConfirmOrder and catches into RefundPayment; ConfirmOrder now catches into a new "
    "CancelShipment state (ResultPath None) whose Next is RefundPayment.",
    solution="ShipOrder between ProcessPayment and ConfirmOrder, Catch → RefundPayment; ConfirmOrder's Catch → "
    "CancelShipment → RefundPayment → ReleaseInventory → OrderFailed.",
)
def check_state_machine(ns, cloud):
    logging.getLogger("moto.stepfunctions").setLevel(logging.CRITICAL)
    calls: list[str] = []
    lock = threading.Lock()

    def make(name):
        def handler(event, context):
            with lock:
                calls.append(name)
            if isinstance(event, dict) and event.get("fail_at") == name:
                raise RuntimeError(f"{name} failed")
            return {"done": name}
        return handler

    arns = {name: cloud.function(name, make(name)).arn for name in FUNCTIONS}
    definition = ns.saga_definition(dict(arns))
    assert isinstance(definition, (dict, str)), f"saga_definition should return a dict (or JSON text), got {definition!r}"
    text = definition if isinstance(definition, str) else json.dumps(definition)
    sfn = cloud.client("stepfunctions")
    try:
        machine = sfn.create_state_machine(name="order-saga", definition=text,
                                           roleArn=f"arn:aws:iam::{cloud.account_id}:role/order-saga")
    except sfn.exceptions.ClientError as error:
        raise AssertionError(f"Step Functions refused the definition: {error.response['Error']['Message']}") from None
    for number, (fail_at, want) in enumerate(CASES.items(), 1):
        calls.clear()
        order = {"order_id": f"o-{number}", "amount": 30, "fail_at": fail_at}
        arn = sfn.start_execution(stateMachineArn=machine["stateMachineArn"], name=f"case-{number}",
                                  input=json.dumps(order))["executionArn"]
        deadline = time.monotonic() + 10
        while (status := sfn.describe_execution(executionArn=arn)["status"]) == "RUNNING":
            assert time.monotonic() < deadline, "an execution ran for more than 10 s: is there a loop?"
            time.sleep(0.02)
        what = f"an order failing at {fail_at}" if fail_at else "an order where every step succeeds"
        if "ship-order" not in calls and fail_at in (None, "confirm-order"):
            raise AssertionError(f"for {what} the function ship-order never ran (called: {calls})")
        assert calls == want, f"for {what} the functions called should be {want}, got {calls}"
        expected_status = "SUCCEEDED" if fail_at is None else "FAILED"
        assert status == expected_status, f"for {what} the execution should end {expected_status}, got {status}"


EXERCISES.known_wrong(
    4, "# Exercise 4\ndef saga_definition(arns):\n    return lesson_definition(arns)\n",
    reason="the function ship-order never ran",
)
EXERCISES.known_wrong(
    4,
    "# Exercise 4\ndef saga_definition(arns):\n    definition = lesson_definition(arns)\n"
    "    states = definition['States']\n    states['ProcessPayment']['Next'] = 'ShipOrder'\n"
    "    states['ShipOrder'] = {'Type': 'Task', 'Resource': arns['ship-order'], 'ResultPath': '$.shipment',\n"
    "        'Catch': [{'ErrorEquals': ['States.ALL'], 'ResultPath': '$.error', 'Next': 'RefundPayment'}],\n"
    "        'Next': 'ConfirmOrder'}\n    return definition\n",
    reason="for an order failing at confirm-order the functions called should be",
)
EXERCISES.known_wrong(
    4,
    "# Exercise 4\ndef saga_definition(arns):\n    definition = lesson_definition(arns)\n"
    "    states = definition['States']\n    states['ProcessPayment']['Next'] = 'ShipOrder'\n"
    "    states['ShipOrder'] = {'Type': 'Task', 'Resource': arns['ship-order'],\n"
    "        'Catch': [{'ErrorEquals': ['States.ALL'], 'Next': 'RefundPayment'}], 'Next': 'ConfirmOrder'}\n"
    "    states['ConfirmOrder']['Catch'][0]['Next'] = 'CancelShipment'\n"
    "    states['CancelShipment'] = {'Type': 'Task', 'Resource': arns['cancel-shipment'], 'ResultPath': None,\n"
    "        'Next': 'RefundPayment'}\n    return definition\n",
    reason="for an order failing at confirm-order the functions called should be",
)
