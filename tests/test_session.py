"""The session: offline by construction, fast to reset, repeatable, and the same over moto's server."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import boto3
import pytest

from localcloud import Cloud, NetworkBlocked

REAL_LOOKING = {"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG",
                "AWS_PROFILE": "production"}


def scenario(cloud: Cloud) -> dict:
    """SNS fan-out into a function that writes to DynamoDB, an S3 trigger, and a direct invoke."""
    ddb, sns, s3 = cloud.client("dynamodb"), cloud.client("sns"), cloud.client("s3")
    ddb.create_table(TableName="users", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")

    def save(event, context):
        user = json.loads(event["Records"][0]["Sns"]["Message"])
        boto3.client("dynamodb").put_item(TableName="users", Item={"id": {"S": user["id"]}})

    def uploaded(event, context):
        key = event["Records"][0]["s3"]["object"]["key"]
        boto3.client("dynamodb").put_item(TableName="users", Item={"id": {"S": f"file:{key}"}})

    topic = sns.create_topic(Name="new-user")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=cloud.function("save", save).arn)
    s3.create_bucket(Bucket="avatars")
    s3.put_bucket_notification_configuration(Bucket="avatars", NotificationConfiguration={
        "LambdaFunctionConfigurations": [{"LambdaFunctionArn": cloud.function("uploaded", uploaded).arn,
                                          "Events": ["s3:ObjectCreated:*"]}]})
    cloud.function("add", lambda e, c: e["a"] + e["b"])
    for user in ("ada", "bo"):
        sns.publish(TopicArn=topic, Message=json.dumps({"id": user}))
    s3.put_object(Bucket="avatars", Key="ada.png", Body=b"png")
    total = json.loads(cloud.client("lambda").invoke(FunctionName="add", Payload=b'{"a": 2, "b": 3}')["Payload"].read())
    cloud.wait()
    items = sorted(item["id"]["S"] for item in ddb.scan(TableName="users")["Items"])
    return {"items": items, "total": total, "outcomes": cloud.trace.outcomes()}


EXPECTED = {"items": ["ada", "bo", "file:ada.png"], "total": 5, "outcomes": {"success": 4}}


def test_nothing_leaves_the_machine_even_with_real_looking_credentials(monkeypatch):
    for name, value in REAL_LOOKING.items():
        monkeypatch.setenv(name, value)
    attempts = []
    original = socket.socket.connect

    def recording_connect(self, address):
        attempts.append(address)
        return original(self, address)

    monkeypatch.setattr(socket.socket, "connect", recording_connect)
    with Cloud() as cloud:
        assert os.environ["AWS_ACCESS_KEY_ID"] != REAL_LOOKING["AWS_ACCESS_KEY_ID"]
        assert "AWS_PROFILE" not in os.environ
        assert scenario(cloud) == EXPECTED
        with pytest.raises(NetworkBlocked, match="only loopback is allowed"):
            socket.create_connection(("93.184.216.34", 80), timeout=1)
        with pytest.raises(NetworkBlocked, match="sqs.us-east-1.amazonaws.com"):
            socket.getaddrinfo("sqs.us-east-1.amazonaws.com", 443)
    assert all(str(address[0]).startswith("127.") for address in attempts)


def test_clients_made_before_the_session_are_switched_to_moto():
    code = (
        "import boto3\n"
        "s3 = boto3.client('s3', region_name='us-east-1')\n"  # made before moto exists
        "from localcloud import Cloud\n"
        "cloud = Cloud()\n"
        "s3.create_bucket(Bucket='early')\n"
        "print([b['Name'] for b in cloud.client('s3').list_buckets()['Buckets']])\n"
    )
    env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIAIOSFODNN7EXAMPLE", AWS_SECRET_ACCESS_KEY="real-looking")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "['early']"


def test_reset_wipes_everything_in_milliseconds(cloud):
    assert scenario(cloud) == EXPECTED
    started = time.perf_counter()
    cloud.reset()
    elapsed = time.perf_counter() - started
    assert elapsed < 0.5  # measured ≈ a few ms; bounded loosely on a shared machine
    assert len(cloud.trace) == 0 and not cloud.runtime.functions
    assert cloud.client("sns").list_topics()["Topics"] == []
    assert scenario(cloud) == EXPECTED  # and the same cell runs again to the same result


def test_running_the_first_cell_twice_gives_the_same_result():
    first = Cloud()
    result = scenario(first)
    second = Cloud()  # re-running the lesson's first cell closes the old session
    assert first._closed
    assert scenario(second) == result == EXPECTED
    second.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_same_scenario_passes_against_motos_server_mode():
    endpoint = f"http://127.0.0.1:{free_port()}"
    with Cloud(endpoint=endpoint) as cloud:
        assert cloud.client("s3").meta.endpoint_url == endpoint
        assert scenario(cloud) == EXPECTED
    with Cloud() as cloud:
        assert scenario(cloud) == EXPECTED


def test_only_loopback_endpoints_and_known_timings_are_accepted():
    from localcloud import ConfigurationError

    with pytest.raises(ConfigurationError, match="not on loopback"):
        Cloud(endpoint="https://sqs.us-east-1.amazonaws.com")
    with pytest.raises(ValueError, match="timing='fast' is not understood"):
        Cloud(timing="fast")


def test_wait_names_what_is_still_pending(cloud):
    from localcloud import WaitTimeout

    fn = cloud.function("slow", lambda e, c: time.sleep(0.5), timeout=2)
    fn.invoke_async({})
    with pytest.raises(WaitTimeout, match="still pending: .*'slow'"):
        cloud.wait(timeout=0.1)
    cloud.wait()
