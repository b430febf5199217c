"""Deploying a parsed service: CloudFormation resources, functions, then their events."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError
from .config import Node, Variables, check_keys, plain, read

FRAMEWORK_TIMEOUT = 6  # seconds: the Serverless Framework's default, not Lambda's 3
FRAMEWORK_MEMORY = 1024  # MB: likewise


@dataclass
class Deployment:
    """What `cloud.deploy(...)` made, by the names the service file uses."""

    service: str
    stage: str
    functions: dict[str, Any] = field(default_factory=dict)  # function key → Function
    api: Any = None  # REST API (`http` events), payload 1.0
    http_api: Any = None  # HTTP API (`httpApi` events), payload 2.0
    stack: str | None = None
    resources: dict[str, str] = field(default_factory=dict)  # logical id → physical id
    topics: dict[str, str] = field(default_factory=dict)  # topic name → ARN
    queues: dict[str, str] = field(default_factory=dict)  # queue name → URL
    buckets: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # liberties taken, for the lesson to discuss

    def __repr__(self) -> str:
        parts = [f"service {self.service} ({self.stage})", f"functions: {', '.join(self.functions)}"]
        if self.resources:
            parts.append(f"resources: {', '.join(self.resources)}")
        return "<Deployment " + "; ".join(parts) + ">"


def _validate(doc: Node, source: str) -> None:
    check_keys(doc, "", "", source)
    for section, kind in (("provider", "provider"), ("resources", "resources")):
        if section in doc.value:
            check_keys(doc.value[section], section, kind, source)
    functions = doc.value.get("functions")
    if functions is None:
        raise ConfigurationError(f"{source}: no 'functions' section: a service needs at least one function")
    for key, function in functions.value.items():
        where = f"functions.{key}"
        check_keys(function, where, "function", source)
        if "handler" not in function.value:
            raise ConfigurationError(f"{source} line {function.line}: {where} has no 'handler: module.function'")
        if "destinations" in function.value:
            check_keys(function.value["destinations"], f"{where}.destinations", "destinations", source)
        for event in (function.value.get("events") or Node([], function.line)).value:
            check_keys(event, f"{where}.events", "events", source)
            for kind, body in event.value.items():
                if isinstance(body, Node) and isinstance(body.value, dict):
                    check_keys(body, f"{where}.events.{kind}", kind, source)


class _Deployer:
    def __init__(self, cloud, document: dict, service: str, stage: str, source: str, code_dir: str) -> None:
        self.cloud, self.doc, self.service, self.stage, self.source = cloud, document, service, stage, source
        self.code_dir = code_dir  # handlers are `module.function` paths relative to the service folder
        self.result = Deployment(service, stage)
        self.types: dict[str, str] = {}
        self.s3_configs: dict[str, list[dict]] = {}

    # -- CloudFormation -----------------------------------------------------------------------------
    def resources(self) -> None:
        template = (self.doc.get("resources") or {})
        if not template.get("Resources"):
            return
        cfn = self.cloud.client("cloudformation")
        name = f"{self.service}-{self.stage}"
        body = {"AWSTemplateFormatVersion": "2010-09-09", "Resources": template["Resources"]}
        if template.get("Outputs"):
            body["Outputs"] = template["Outputs"]
        cfn.create_stack(StackName=name, TemplateBody=json.dumps(body))
        status = cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
        if status != "CREATE_COMPLETE":
            raise ConfigurationError(f"{self.source}: CloudFormation stack {name} ended {status}")
        self.result.stack = name
        for resource in cfn.describe_stack_resources(StackName=name)["StackResources"]:
            self.result.resources[resource["LogicalResourceId"]] = resource["PhysicalResourceId"]
            self.types[resource["LogicalResourceId"]] = resource["ResourceType"]

    def intrinsic(self, value: Any) -> Any:
        """Ref / Fn::GetAtt against the stack, as CloudFormation would resolve them."""
        if isinstance(value, list):
            return [self.intrinsic(v) for v in value]
        if not isinstance(value, dict):
            return value
        if set(value) == {"Ref"}:
            return self._physical(value["Ref"])
        if set(value) == {"Fn::GetAtt"}:
            logical, attribute = value["Fn::GetAtt"] if isinstance(value["Fn::GetAtt"], list) else \
                value["Fn::GetAtt"].split(".", 1)
            return self._attribute(logical, attribute)
        return {k: self.intrinsic(v) for k, v in value.items()}

    def _physical(self, logical: str) -> str:
        if logical not in self.result.resources:
            raise ConfigurationError(f"{self.source}: Ref to '{logical}', which resources.Resources does not define")
        return self.result.resources[logical]

    def _attribute(self, logical: str, attribute: str) -> str:
        physical, kind = self._physical(logical), self.types.get(logical, "")
        if kind == "AWS::DynamoDB::Table":
            table = self.cloud.client("dynamodb").describe_table(TableName=physical)["Table"]
            return {"Arn": table["TableArn"], "StreamArn": table.get("LatestStreamArn")}[attribute]
        if kind == "AWS::SQS::Queue":
            attrs = self.cloud.client("sqs").get_queue_attributes(QueueUrl=physical, AttributeNames=["QueueArn"])
            return {"Arn": attrs["Attributes"]["QueueArn"], "QueueName": physical.rsplit("/", 1)[-1]}[attribute]
        if kind == "AWS::SNS::Topic" and attribute in ("TopicArn", "Arn"):
            return physical
        if kind == "AWS::S3::Bucket" and attribute == "Arn":
            return f"arn:aws:s3:::{physical}"
        if kind == "AWS::Kinesis::Stream" and attribute == "Arn":
            return self.cloud.client("kinesis").describe_stream_summary(StreamName=physical)[
                "StreamDescriptionSummary"]["StreamARN"]
        raise ConfigurationError(f"{self.source}: Fn::GetAtt {logical}.{attribute} ({kind}) is not supported")

    # -- functions ----------------------------------------------------------------------------------
    def functions(self) -> None:
        provider = self.doc.get("provider") or {}
        for key, spec in self.doc["functions"].items():
            environment = {**(provider.get("environment") or {}), **(spec.get("environment") or {})}
            on_error = self.intrinsic(spec.get("onError"))
            if on_error and ":sqs:" in str(on_error):
                self.result.notes.append(
                    f"functions.{key}.onError is an SQS queue: Lambda accepts it as a dead-letter queue, but the "
                    "Serverless Framework only supports SNS topics there, and a DLQ applies to asynchronous "
                    "invocations only — never to messages an SQS event source mapping delivers")
            fn = self.cloud.function(
                spec.get("name") or f"{self.service}-{self.stage}-{key}", spec["handler"],
                timeout=spec.get("timeout", provider.get("timeout", FRAMEWORK_TIMEOUT)),
                memory=spec.get("memorySize", provider.get("memorySize", FRAMEWORK_MEMORY)),
                environment={k: str(self.intrinsic(v)) for k, v in environment.items()},
                reserved_concurrency=spec.get("reservedConcurrency"), dead_letter_arn=on_error,
                provisioned_concurrency=int(spec.get("provisionedConcurrency") or 0), code_dir=self.code_dir,
            )
            self.result.functions[key] = fn
        for key, spec in self.doc["functions"].items():
            if spec.get("destinations"):
                self._destinations(key, spec["destinations"])

    def _destinations(self, key: str, destinations: dict) -> None:
        config = {}
        for when, target in destinations.items():
            target = self.intrinsic(target)
            if target in self.result.functions:
                target = self.result.functions[target].arn
            config["OnSuccess" if when == "onSuccess" else "OnFailure"] = {"Destination": target}
        self.cloud.client("lambda").put_function_event_invoke_config(
            FunctionName=self.result.functions[key].name, DestinationConfig=config)

    # -- events -------------------------------------------------------------------------------------
    def events(self) -> None:
        rest: dict[str, Any] = {}
        http: dict[str, Any] = {}
        for key, spec in self.doc["functions"].items():
            fn = self.result.functions[key]
            for index, event in enumerate(spec.get("events") or []):
                (kind, body), = event.items()
                body = self.intrinsic(body)
                if kind == "http":
                    body = body if isinstance(body, dict) else dict(zip(("method", "path"), body.split(" ", 1),
                                                                        strict=True))
                    rest[f"{body['method'].upper()} /{body['path'].lstrip('/')}"] = fn
                elif kind == "httpApi":
                    route = body if isinstance(body, str) else f"{body['method'].upper()} {body['path']}"
                    http["$default" if route == "*" else route.replace("* ", "ANY ")] = fn
                else:
                    getattr(self, f"_{kind}")(key, fn, body, index)
        for bucket, configs in self.s3_configs.items():
            self.cloud.client("s3").put_bucket_notification_configuration(
                Bucket=bucket, NotificationConfiguration={"LambdaFunctionConfigurations": configs})
        if rest:
            self.result.api = self.cloud.http_api(rest, name=f"{self.stage}-{self.service}", payload_version="1.0")
        if http:
            self.result.http_api = self.cloud.http_api(http, name=f"{self.stage}-{self.service}-http")

    def _topic(self, body: Any) -> tuple[str, dict]:
        options = body if isinstance(body, dict) else {}
        reference = options.get("arn") or options.get("topicName") or body
        if isinstance(reference, str) and reference.startswith("arn:"):
            return reference, options
        arn = self.cloud.client("sns").create_topic(Name=reference)["TopicArn"]  # the Framework creates it
        self.result.topics[reference] = arn
        return arn, options

    def _sns(self, key: str, fn: Any, body: Any, index: int) -> None:
        arn, options = self._topic(body)
        attributes = {}
        if options.get("filterPolicy"):
            attributes["FilterPolicy"] = json.dumps(options["filterPolicy"])
        if options.get("filterPolicyScope"):
            attributes["FilterPolicyScope"] = options["filterPolicyScope"]
        self.cloud.client("sns").subscribe(TopicArn=arn, Protocol="lambda", Endpoint=fn.arn,
                                           Attributes=attributes)

    def _queue_arn(self, key: str, reference: str) -> str:
        if reference.startswith("arn:"):
            return reference
        sqs = self.cloud.client("sqs")
        url = sqs.create_queue(QueueName=reference)["QueueUrl"]
        self.result.queues[reference] = url
        self.result.notes.append(
            f"functions.{key}: 'sqs: {reference}' names a queue; the Serverless Framework wants the queue's ARN "
            f"and does not create it — the local cloud created queue '{reference}' so the service runs as printed")
        return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    def _sqs(self, key: str, fn: Any, body: Any, index: int) -> None:
        options = body if isinstance(body, dict) else {"arn": body}
        spec: dict[str, Any] = {"EventSourceArn": self._queue_arn(key, options["arn"]), "FunctionName": fn.name,
                                "BatchSize": options.get("batchSize", 10), "Enabled": options.get("enabled", True)}
        if "maximumBatchingWindow" in options:
            spec["MaximumBatchingWindowInSeconds"] = options["maximumBatchingWindow"]
        if options.get("functionResponseType"):
            spec["FunctionResponseTypes"] = [options["functionResponseType"]]
        if options.get("maximumConcurrency"):
            spec["ScalingConfig"] = {"MaximumConcurrency": options["maximumConcurrency"]}
        self.cloud.client("lambda").create_event_source_mapping(**spec)

    def _stream(self, key: str, fn: Any, body: Any, index: int) -> None:
        options = body if isinstance(body, dict) else {"arn": body}
        spec: dict[str, Any] = {
            "EventSourceArn": options["arn"], "FunctionName": fn.name,
            "BatchSize": options.get("batchSize", 100),
            "StartingPosition": options.get("startingPosition", "TRIM_HORIZON"),
            "Enabled": options.get("enabled", True),
        }
        for name, api in (("maximumRetryAttempts", "MaximumRetryAttempts"),
                          ("bisectBatchOnFunctionError", "BisectBatchOnFunctionError"),
                          ("maximumRecordAgeInSeconds", "MaximumRecordAgeInSeconds"),
                          ("maximumBatchingWindow", "MaximumBatchingWindowInSeconds"),
                          ("parallelizationFactor", "ParallelizationFactor")):
            if name in options:
                spec[api] = options[name]
        if options.get("functionResponseType"):
            spec["FunctionResponseTypes"] = [options["functionResponseType"]]
        on_failure = (options.get("destinations") or {}).get("onFailure")
        if on_failure:
            target = on_failure.get("arn") if isinstance(on_failure, dict) else on_failure
            spec["DestinationConfig"] = {"OnFailure": {"Destination": self.intrinsic(target)}}
        self.cloud.client("lambda").create_event_source_mapping(**spec)

    def _s3(self, key: str, fn: Any, body: Any, index: int) -> None:
        options = body if isinstance(body, dict) else {"bucket": body}
        bucket = options["bucket"]
        if not options.get("existing") and bucket not in self.result.buckets:
            s3 = self.cloud.client("s3")
            if bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
                s3.create_bucket(Bucket=bucket)  # the Framework creates the bucket it names
            self.result.buckets.append(bucket)
        config: dict[str, Any] = {"LambdaFunctionArn": fn.arn, "Events": [options.get("event", "s3:ObjectCreated:*")]}
        rules = [{"Name": name, "Value": value} for rule in options.get("rules") or [] for name, value in rule.items()]
        if rules:
            config["Filter"] = {"Key": {"FilterRules": rules}}
        self.s3_configs.setdefault(bucket, []).append(config)

    def _rule(self, fn: Any, index: int, rule: dict, target: dict) -> None:
        events = self.cloud.client("events")
        name = f"{fn.name}-rule-{index + 1}"
        rule_arn = events.put_rule(Name=name, **rule)["RuleArn"]
        events.put_targets(Rule=name, EventBusName=rule.get("EventBusName", "default"),
                           Targets=[{"Id": "lambda", "Arn": fn.arn, **target}])
        self.result.resources.setdefault(name, rule_arn)

    def _eventBridge(self, key: str, fn: Any, body: dict, index: int) -> None:  # noqa: N802 - the YAML key
        rule: dict[str, Any] = {"State": "ENABLED" if body.get("enabled", True) else "DISABLED"}
        if body.get("pattern"):
            rule["EventPattern"] = json.dumps(body["pattern"])
        if body.get("schedule"):
            rule["ScheduleExpression"] = body["schedule"]
        if body.get("eventBus"):
            bus = body["eventBus"].rsplit("/", 1)[-1]
            events = self.cloud.client("events")
            if bus != "default" and bus not in {b["Name"] for b in events.list_event_buses()["EventBuses"]}:
                events.create_event_bus(Name=bus)
            rule["EventBusName"] = bus
        target: dict[str, Any] = {}
        if "input" in body:
            target["Input"] = json.dumps(body["input"])
        if "inputPath" in body:
            target["InputPath"] = body["inputPath"]
        if "inputTransformer" in body:
            transformer = body["inputTransformer"]
            target["InputTransformer"] = {"InputPathsMap": transformer.get("inputPathsMap", {}),
                                          "InputTemplate": transformer["inputTemplate"]}
        self._rule(fn, index, rule, target)

    def _schedule(self, key: str, fn: Any, body: Any, index: int) -> None:
        options = body if isinstance(body, dict) else {"rate": body}
        rates = options["rate"] if isinstance(options["rate"], list) else [options["rate"]]
        for offset, rate in enumerate(rates):
            target = {"Input": json.dumps(options["input"])} if "input" in options else {}
            self._rule(fn, index + offset, {"ScheduleExpression": rate,
                                            "State": "ENABLED" if options.get("enabled", True) else "DISABLED"},
                       target)


def deploy(cloud, path: str | Path, *, stage: str | None = None, options: dict[str, str] | None = None
           ) -> Deployment:
    """Deploy a `serverless.yml`: resources via moto's CloudFormation, functions, then their events."""
    path = Path(path).resolve()
    doc, source = read(path)
    _validate(doc, source)
    raw = plain(doc)
    provider = raw.get("provider") or {}
    given = dict(options or {})
    if stage is not None:
        given["stage"] = stage
    variables = Variables(raw, given, cloud.region, cloud.account_id, source)
    given.setdefault("stage", str(variables.resolve(provider.get("stage", "dev"))))
    document = variables.resolve(raw)
    service = document["service"]["name"] if isinstance(document["service"], dict) else document["service"]
    deployer = _Deployer(cloud, document, service, given["stage"], source, str(path.parent))
    region = (document.get("provider") or {}).get("region", cloud.region)
    if region != cloud.region:
        deployer.result.notes.append(f"provider.region {region} is deployed to the cloud's region {cloud.region}")
    deployer.resources()
    deployer.functions()
    deployer.events()
    return deployer.result
