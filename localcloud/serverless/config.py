"""Reading `serverless.yml`: YAML with line numbers, the keys we support, and `${...}` variables."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..errors import ConfigurationError

# Where each key is allowed. A key missing here is refused with its line (no silent skip).
SUPPORTED = {
    "": {"service", "frameworkVersion", "provider", "functions", "resources", "custom", "configValidationMode"},
    "provider": {"name", "runtime", "stage", "region", "memorySize", "timeout", "environment", "iam",
                 "iamRoleStatements", "architecture", "logRetentionInDays", "tags"},
    "function": {"handler", "events", "environment", "memorySize", "timeout", "reservedConcurrency",
                 "provisionedConcurrency", "name", "description", "onError", "destinations", "runtime", "tags"},
    "events": {"http", "httpApi", "sns", "sqs", "s3", "stream", "eventBridge", "schedule"},
    "http": {"path", "method", "cors", "private"},
    "httpApi": {"path", "method"},
    "sns": {"arn", "topicName", "filterPolicy", "filterPolicyScope", "displayName"},
    "sqs": {"arn", "batchSize", "maximumBatchingWindow", "functionResponseType", "enabled", "maximumConcurrency"},
    "s3": {"bucket", "event", "rules", "existing"},
    "stream": {"type", "arn", "batchSize", "startingPosition", "maximumRetryAttempts", "bisectBatchOnFunctionError",
               "maximumRecordAgeInSeconds", "functionResponseType", "enabled", "destinations",
               "maximumBatchingWindow", "parallelizationFactor"},
    "eventBridge": {"pattern", "eventBus", "schedule", "input", "inputPath", "inputTransformer", "enabled"},
    "schedule": {"rate", "enabled", "input", "name", "description"},
    "destinations": {"onSuccess", "onFailure"},
    "resources": {"Resources", "Outputs"},
}


@dataclass
class Node:
    """A value with the line it was written on, for error messages."""

    value: Any
    line: int


def _compose(node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        return Node({k.value: _compose(v) for k, v in node.value}, node.start_mark.line + 1)
    if isinstance(node, yaml.SequenceNode):
        return Node([_compose(v) for v in node.value], node.start_mark.line + 1)
    constructor = yaml.SafeLoader("")
    return Node(constructor.construct_object(node, deep=True), node.start_mark.line + 1)


def lines_of(text: str) -> Node:
    """The document as Nodes (values + lines). CloudFormation tags like !Ref are read as plain mappings."""
    loader = yaml.SafeLoader(text)
    for tag in ("!Ref", "!GetAtt", "!Sub", "!Join"):
        yaml.add_constructor(tag, lambda loader_, suffix_node, tag=tag: _intrinsic(loader_, suffix_node, tag),
                             Loader=yaml.SafeLoader)
    try:
        root = loader.get_single_node()
    finally:
        loader.dispose()
    if root is None:
        raise ConfigurationError("serverless.yml is empty")
    return _compose(root)


def _intrinsic(loader, node, tag: str):
    name = "Ref" if tag == "!Ref" else f"Fn::{tag[1:]}"
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if tag == "!GetAtt":
            value = value.split(".", 1)
        return {name: value}
    return {name: loader.construct_sequence(node, deep=True)}


def plain(node: Any) -> Any:
    """Strip line numbers: the values only."""
    if isinstance(node, Node):
        node = node.value
    if isinstance(node, dict):
        return {k: plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    return node


def check_keys(node: Node, where: str, kind: str, source: str) -> None:
    if not isinstance(node.value, dict):
        return
    allowed = SUPPORTED[kind]
    for key, value in node.value.items():
        if key not in allowed:
            line = value.line if isinstance(value, Node) else node.line
            raise ConfigurationError(
                f"{source} line {line}: '{key}' under {where or 'the top level'} is not supported by the "
                f"local cloud (supported here: {', '.join(sorted(allowed))})"
            )


VARIABLE = re.compile(r"\$\{([^{}]+)\}")


class Variables:
    """Serverless variables: ${self:a.b}, ${opt:stage, 'dev'}, ${env:NAME, 'x'}, ${sls:stage}, ${aws:region}."""

    def __init__(self, document: dict, options: dict[str, str], region: str, account_id: str, source: str):
        self.document, self.options, self.region, self.account_id = document, options, region, account_id
        self.source = source

    def resolve(self, value: Any, depth: int = 0) -> Any:
        if depth > 20:
            raise ConfigurationError(f"{self.source}: variables refer to each other in a circle")
        if isinstance(value, dict):
            return {k: self.resolve(v, depth) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v, depth) for v in value]
        if not isinstance(value, str) or "${" not in value:
            return value
        whole = VARIABLE.fullmatch(value)
        if whole:
            return self.resolve(self._lookup(whole.group(1)), depth + 1)
        return self.resolve(VARIABLE.sub(lambda m: str(self._lookup(m.group(1))), value), depth + 1)

    def _lookup(self, expression: str) -> Any:
        reference, _, fallback = expression.partition(",")
        reference = reference.strip()
        default = self._literal(fallback.strip()) if fallback else None
        source, _, path = reference.partition(":")
        value: Any
        if source == "self":
            value = self.document
            for part in path.split("."):
                value = value.get(part) if isinstance(value, dict) else None
        elif source == "opt":
            value = self.options.get(path)
        elif source == "env":
            value = os.environ.get(path)
        elif source == "sls" and path == "stage":
            value = self.options.get("stage")
        elif source == "aws":
            value = {"region": self.region, "accountId": self.account_id}.get(path)
        else:
            raise ConfigurationError(
                f"{self.source}: variable '${{{expression}}}' uses a source the local cloud does not resolve "
                "(supported: self, opt, env, sls:stage, aws:region, aws:accountId)"
            )
        if value is None:
            if default is None:
                raise ConfigurationError(f"{self.source}: variable '${{{expression}}}' has no value and no default")
            return default
        return value

    def _literal(self, text: str) -> Any:
        if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
            return text[1:-1]
        if text.startswith("${"):
            return self.resolve(text)
        try:
            return int(text)
        except ValueError:
            return text


def read(path: str | Path) -> tuple[Node, str]:
    path = Path(path)
    if not path.exists():
        raise ConfigurationError(f"no service file at {path}: give the path to a serverless.yml")
    return lines_of(path.read_text()), str(path.name)
