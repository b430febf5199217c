"""`cloud.deploy("serverless.yml")`: the chapter's services exactly as printed, and clear refusals."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from localcloud import ConfigurationError

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT.parent / "shared" / "seed" / "000_0c4e0c9dd3c58c77.txt"
SERVICES = ROOT / "notebooks" / "services"


def service(tmp_path: Path, name: str) -> Path:
    """The chapter's serverless.yml next to this test's handler modules."""
    folder = tmp_path / name
    shutil.copytree(Path(__file__).parent / "services" / name, folder)
    shutil.copy(SERVICES / name / "serverless.yml", folder / "serverless.yml")
    return folder / "serverless.yml"


@pytest.mark.parametrize("name", ["ecommerce", "image-processor"])
def test_the_course_keeps_the_chapters_files_byte_for_byte(name):
    if not SEED.exists():
        pytest.skip("the chapter (shared/seed) is not beside this checkout")
    blocks = re.findall(r"```yaml\n(.*?)```", SEED.read_text(), re.S)
    printed = next(b for b in blocks if f"service: {name}" in b)
    assert (SERVICES / name / "serverless.yml").read_text() == printed


def test_the_ecommerce_service_runs_as_printed(cloud, tmp_path):
    deployment = cloud.deploy(service(tmp_path, "ecommerce"))
    assert sorted(deployment.functions) == ["createOrder", "getOrder", "processPayment", "sendNotification"]
    assert deployment.functions["createOrder"].name == "ecommerce-dev-createOrder"
    assert any("'sqs: payment-completed' names a queue" in note for note in deployment.notes)
    response = deployment.api.request("POST", "/orders", json={"order_id": "o-1"})
    assert response.status_code == 201
    assert deployment.api.request("GET", "/orders/o-1").json() == {"order_id": "o-1"}
    cloud.wait()
    chain = sorted(r.function.split("-")[-1] for r in cloud.trace.invocations)
    assert chain == ["createOrder", "getOrder", "processPayment", "sendNotification"]
    assert cloud.trace.outcomes() == {"success": 4}
    assert any("notify o-1" in line for line in cloud.logs("ecommerce-dev-sendNotification"))
    config = cloud.client("lambda").get_function_configuration(FunctionName="ecommerce-dev-getOrder")
    assert (config["Timeout"], config["MemorySize"]) == (6, 1024)  # the Framework's defaults


def test_the_image_processor_with_its_cloudformation_table(cloud, tmp_path):
    deployment = cloud.deploy(service(tmp_path, "image-processor"), stage="prod")
    assert deployment.stack == "image-processor-prod"
    assert deployment.resources["ImageMetadataTable"] == "ImageMetadata"
    cloud.client("s3").put_object(Bucket="images", Key="cat.jpg", Body=b"jpeg")
    cloud.wait()
    table = cloud.client("dynamodb").scan(TableName="ImageMetadata")["Items"]
    assert [item["image_id"]["S"] for item in table] == ["cat.jpg"]
    keys = sorted(o["Key"] for o in cloud.client("s3").list_objects_v2(Bucket="images")["Contents"])
    assert keys == ["cat.jpg", "thumbnails/cat.jpg"]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "serverless.yml"
    path.write_text(text)
    (tmp_path / "app.py").write_text("import os\ndef run(event, context):\n    return os.environ.get('TABLE')\n")
    return path


def test_variables_self_opt_env_and_defaults(cloud, tmp_path, monkeypatch):
    monkeypatch.setenv("TEAM", "payments")
    path = write(tmp_path, """
service: shop
custom:
  table: ${self:service}-${opt:stage, 'dev'}-orders
provider:
  name: aws
  environment:
    TABLE: ${self:custom.table}
functions:
  run:
    handler: app.run
    name: ${env:TEAM}-${sls:stage}-run
    timeout: 10
""")
    deployment = cloud.deploy(path, stage="test")
    fn = deployment.functions["run"]
    assert fn.name == "payments-test-run"
    assert fn.invoke() == "shop-test-orders"


@pytest.mark.parametrize(
    ("snippet", "message"),
    [
        ("functions:\n  run:\n    handler: app.run\n    layers: [x]\n",
         "line 5: 'layers' under functions.run is not supported"),
        ("functions:\n  run:\n    handler: app.run\n    events:\n      - websocket: $connect\n",
         "line 6: 'websocket' under functions.run.events is not supported"),
        ("plugins:\n  - serverless-offline\nfunctions:\n  run:\n    handler: app.run\n",
         "line 3: 'plugins' under the top level is not supported"),
        ("functions:\n  run:\n    handler: app.run\n    events:\n      - sqs:\n          arn: x\n          foo: 1\n",
         "line 8: 'foo' under functions.run.events.sqs is not supported"),
        ("functions:\n  run:\n    handler: missing.run\n", "cannot find module 'missing'"),
        ("functions:\n  run:\n    handler: app.run\n    name: ${self:custom.nope}\n",
         "variable '${self:custom.nope}' has no value and no default"),
    ],
)
def test_unsupported_keys_and_bad_values_are_refused_with_their_line(cloud, tmp_path, snippet, message):
    path = write(tmp_path, "service: shop\n" + snippet)
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        cloud.deploy(path)


def test_two_services_may_both_have_a_module_of_the_same_name(cloud, tmp_path):
    for name, answer in (("one", 1), ("two", 2)):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "serverless.yml").write_text(f"service: {name}\nfunctions:\n  f:\n    handler: app.run\n")
        (folder / "app.py").write_text(f"def run(event, context):\n    return {answer}\n")
    one, two = cloud.deploy(tmp_path / "one" / "serverless.yml"), cloud.deploy(tmp_path / "two" / "serverless.yml")
    assert (one.functions["f"].invoke(), two.functions["f"].invoke()) == (1, 2)
    assert json.loads(json.dumps(repr(one))).startswith("<Deployment service one")
