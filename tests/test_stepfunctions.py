"""Step Functions Task states reach real handlers; cloud.wait() waits for running executions."""

from __future__ import annotations

import json

import boto3


def test_a_state_machine_runs_real_handlers_and_catches_their_errors(cloud):
    double = cloud.function("double", lambda e, c: {"n": e["n"] * 2})

    def refuse(event, context):
        raise ValueError("too big")

    fails = cloud.function("refuse", refuse)
    definition = {
        "StartAt": "Double",
        "States": {
            "Double": {"Type": "Task", "Resource": double.arn, "Next": "Check"},
            "Check": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                      "Parameters": {"FunctionName": fails.arn, "Payload.$": "$"},
                      "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Refused"}], "End": True},
            "Refused": {"Type": "Pass", "Result": "refused", "End": True},
        },
    }
    sfn = boto3.client("stepfunctions")
    machine = sfn.create_state_machine(name="doubler", definition=json.dumps(definition),
                                       roleArn="arn:aws:iam::123456789012:role/sfn")["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=machine, input=json.dumps({"n": 21}))["executionArn"]
    cloud.wait(timeout=30)
    described = sfn.describe_execution(executionArn=execution)
    assert described["status"] == "SUCCEEDED"
    assert described["output"].strip('"') == "refused"  # moto returns a Pass state's string result unquoted
    invocations = cloud.trace.invocations.records
    assert [(r.function, r.outcome) for r in invocations] == [("double", "success"), ("refuse", "error")]
    assert {r.source for r in invocations} == {"statemachine:doubler"}


def test_wait_states_and_retry_intervals_run_on_the_classroom_clock(cloud):
    import time

    attempts = []

    def flaky(event, context):
        attempts.append(time.monotonic())
        if len(attempts) < 3:
            raise TimeoutError("gateway timeout")
        return {"ok": True}

    fn = cloud.function("flaky", flaky)
    definition = {
        "StartAt": "Pause",
        "States": {
            "Pause": {"Type": "Wait", "Seconds": 30, "Next": "Call"},
            "Call": {"Type": "Task", "Resource": fn.arn, "End": True,
                     "Retry": [{"ErrorEquals": ["TimeoutError"], "IntervalSeconds": 20, "MaxAttempts": 2,
                                "BackoffRate": 2}]},
        },
    }
    sfn = boto3.client("stepfunctions")
    machine = sfn.create_state_machine(name="patient", definition=json.dumps(definition),
                                       roleArn="arn:aws:iam::123456789012:role/sfn")["stateMachineArn"]
    started = time.monotonic()
    execution = sfn.start_execution(stateMachineArn=machine, input="{}")["executionArn"]
    cloud.wait(timeout=30)
    assert sfn.describe_execution(executionArn=execution)["status"] == "SUCCEEDED"
    # 30 + 20 + 40 AWS seconds: 90 ms here, not a minute and a half.
    assert len(attempts) == 3 and time.monotonic() - started < 10
    assert attempts[1] - attempts[0] >= cloud.clock.real(20) and attempts[2] - attempts[1] >= cloud.clock.real(40)
    assert attempts[0] - started >= cloud.clock.real(30)
