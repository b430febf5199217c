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
