"""What the local stack creates, read from template.yaml, where it is written down once.

The template is the truth for what is deployed; the local stack builds the same thing under the
names the template gives each resource in `Metadata.LocalName` (a function is named after its
crate, its `CodeUri`). From the template this module reads:

- the functions, in the template's order;
- the orders queue (the queue the SQS-triggered function reads), its dead-letter queue and
  `maxReceiveCount`, and that event source's batch size;
- the table whose stream triggers a function (its key and stream view), that event source's batch
  size, retries and its on-failure queue;
- the topics with their email subscribers (`Metadata.LocalEndpoint`), the reports bucket, the
  state machine with its definition file and `DefinitionSubstitutions`;
- each function's environment variables that name a resource, with the local resource's name
  (or ARN, for a topic) as the value, and those the template sets to a literal, as they are.

`python local/resources.py` prints the result as JSON. The emulator creates it
(`local/emulator/provision.py`), the stack script sets the functions' environment from it, and the
gateway and the stack's tests read what the emulator created from its ready file.
"""

import json
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
# The account and region of the local emulator (moto's defaults).
ACCOUNT = "123456789012"
REGION = "us-east-1"


class TemplateError(Exception):
    """template.yaml does not say something the local stack needs."""


class _CloudFormationLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short forms: `!Ref X` reads as {"Ref": "X"}, `!GetAtt A.B` as
    {"Fn::GetAtt": "A.B"}, any other `!Name v` as {"Fn::Name": v}."""


def _short_form(
    loader: yaml.SafeLoader, suffix: str, node: yaml.ScalarNode | yaml.SequenceNode | yaml.MappingNode
) -> dict[str, Any]:
    value: object
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {"Ref": value} if suffix == "Ref" else {f"Fn::{suffix}": value}


_CloudFormationLoader.add_multi_constructor("!", _short_form)


def read_template(path: Path = TEMPLATE) -> dict[str, Any]:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_CloudFormationLoader)


def referenced(value: Any) -> Any:
    """The logical id a `!Ref X` or `!GetAtt X.Attribute` names, else None."""
    if isinstance(value, dict) and "Ref" in value:
        return value["Ref"]
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        target = value["Fn::GetAtt"]
        return (target.split(".", 1) if isinstance(target, str) else target)[0]
    return None


class _Template:
    def __init__(self, template: dict[str, Any], region: str) -> None:
        self.resources = template["Resources"]
        self.globals: dict[str, Any] = template.get("Globals", {}).get("Function", {})
        self.region = region

    def of_type(self, kind: str) -> dict[str, Any]:
        return {k: r for k, r in self.resources.items() if r["Type"] == kind}

    def only(self, kind: str) -> tuple[str, Any]:
        found = self.of_type(kind)
        if len(found) != 1:
            raise TemplateError(f"template.yaml has {len(found)} resources of type {kind}; the local stack expects one")
        return next(iter(found.items()))

    def name(self, logical: str) -> str:
        resource = self.resources.get(logical)
        if resource is None:
            raise TemplateError(f"template.yaml names {logical}, which it does not define")
        if resource["Type"] == "AWS::Serverless::Function":
            return Path(resource["Properties"]["CodeUri"]).name
        try:
            return resource["Metadata"]["LocalName"]
        except (KeyError, TypeError):
            raise TemplateError(
                f"template.yaml: {logical} has no Metadata.LocalName, so the local stack cannot name it"
            ) from None

    def arn(self, logical: str) -> str:
        """The ARN the emulator gives the resource (topics and functions are what refer to)."""
        kind, name = self.resources[logical]["Type"], self.name(logical)
        if kind == "AWS::SNS::Topic":
            return f"arn:aws:sns:{self.region}:{ACCOUNT}:{name}"
        if kind == "AWS::Serverless::Function":
            return f"arn:aws:lambda:{self.region}:{ACCOUNT}:function:{name}"
        raise TemplateError(f"template.yaml: the local stack knows no ARN for {logical} ({kind})")

    def value(self, value: Any) -> str | None:
        """What a `!Ref`/`!GetAtt` of a resource is locally; None for anything else (a parameter,
        a literal), which the local stack sets itself."""
        logical = referenced(value)
        # `<Function>Alias<name>`, which the SAM transform makes of AutoPublishAlias: locally the
        # function itself (the local stack publishes no versions).
        for function, resource in self.of_type("AWS::Serverless::Function").items():
            alias = resource["Properties"].get("AutoPublishAlias") or self.globals.get("AutoPublishAlias")
            if alias and logical == f"{function}Alias{alias}":
                return self.arn(function)
        if logical not in self.resources:
            return None
        if "Fn::GetAtt" in value or self.resources[logical]["Type"] == "AWS::SNS::Topic":
            return self.arn(logical)
        return self.name(logical)

    def event(self, kind: str) -> tuple[str, Any]:
        """The one function with an event source of `kind`, and that event's properties."""
        found = [
            (logical, event["Properties"])
            for logical, function in self.of_type("AWS::Serverless::Function").items()
            for event in function["Properties"].get("Events", {}).values()
            if event["Type"] == kind
        ]
        if len(found) != 1:
            raise TemplateError(f"template.yaml has {len(found)} {kind} event sources; the local stack expects one")
        return found[0]


def local_resources(template: dict[str, Any] | None = None, region: str = REGION) -> dict[str, Any]:
    """Everything the local stack creates, named as template.yaml says (see the module's doc)."""
    t = _Template(template or read_template(), region)
    functions = t.of_type("AWS::Serverless::Function")

    writer, orders_event = t.event("SQS")
    queue = referenced(orders_event["Queue"])
    redrive = t.resources[queue]["Properties"]["RedrivePolicy"]
    notifier, stream_event = t.event("DynamoDB")
    table = referenced(stream_event["Stream"])
    table_properties = t.resources[table]["Properties"]
    on_failure = referenced(stream_event["DestinationConfig"]["OnFailure"]["Destination"])

    # A topic without a LocalName is deployed only (the ops topic the alarms notify), and so are
    # its subscriptions.
    local_topics = [k for k, r in t.of_type("AWS::SNS::Topic").items() if "LocalName" in (r.get("Metadata") or {})]
    topics: dict[str, list[dict[str, str]]] = {t.name(logical): [] for logical in local_topics}
    for logical, subscription in t.of_type("AWS::SNS::Subscription").items():
        properties = subscription["Properties"]
        if referenced(properties["TopicArn"]) not in local_topics:
            continue
        endpoint = (subscription.get("Metadata") or {}).get("LocalEndpoint")
        if endpoint is None:
            raise TemplateError(f"template.yaml: {logical} has no Metadata.LocalEndpoint")
        topics[t.name(referenced(properties["TopicArn"]))].append(
            {"protocol": properties["Protocol"], "endpoint": endpoint}
        )

    bucket, _ = t.only("AWS::S3::Bucket")
    machine, machine_resource = t.only("AWS::Serverless::StateMachine")
    machine_properties = machine_resource["Properties"]

    environment: dict[str, str] = {}
    for function in functions.values():
        for variable, value in function["Properties"].get("Environment", {}).get("Variables", {}).items():
            # A literal is the same setting locally (REPORT_WAIT_SECONDS: one time budget).
            local = str(value) if isinstance(value, (str, int, float)) else t.value(value)
            if local is not None:
                environment[variable] = local

    return {
        "region": region,
        "account": ACCOUNT,
        "functions": [t.name(logical) for logical in functions],
        "ordersQueue": {"name": t.name(queue), "maxReceiveCount": int(redrive["maxReceiveCount"])},
        "ordersDeadLetterQueue": {"name": t.name(referenced(redrive["deadLetterTargetArn"]))},
        "notifierFailuresQueue": {"name": t.name(on_failure)},
        "ordersTable": {
            "name": t.name(table),
            "keySchema": table_properties["KeySchema"],
            "attributeDefinitions": table_properties["AttributeDefinitions"],
            "streamViewType": table_properties["StreamSpecification"]["StreamViewType"],
        },
        "topics": {name: {"subscribers": subscribers} for name, subscribers in topics.items()},
        "reportsBucket": t.name(bucket),
        "stateMachine": {
            "name": t.name(machine),
            "definition": machine_properties["DefinitionUri"],
            "substitutions": {k: t.value(v) for k, v in machine_properties["DefinitionSubstitutions"].items()},
        },
        "sqsMapping": {"function": t.name(writer), "batchSize": int(orders_event["BatchSize"])},
        "streamMapping": {
            "function": t.name(notifier),
            "batchSize": int(stream_event["BatchSize"]),
            "maxRetries": int(stream_event["MaximumRetryAttempts"]),
        },
        "environment": environment,
    }


if __name__ == "__main__":
    try:
        print(json.dumps(local_resources(), indent=2))
    except TemplateError as e:
        sys.exit(f"error: {e}")
