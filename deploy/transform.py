"""Runs the AWS SAM transform on template.yaml offline, as CloudFormation runs it on every deploy.

aws-sam-translator is the library behind both `sam deploy` and CloudFormation's
`AWS::Serverless-2016-10-31` transform; cfn-lint and `sam validate --lint` do not run it, so a
template they pass can still be refused at deploy time. This script translates the template once
per value of every parameter that switches a condition (the others at their defaults), with
`CodeUri` and `DefinitionUri` pointing at S3 as `sam package` leaves them, and writes each result
to target/sam/<variant>.json. Any transform error fails it.

    python deploy/transform.py [--out target/sam]
"""

import argparse
import copy
import json
import os
import pathlib
import re
import sys

# The translator asks boto3 for a region (for ARNs and partitions); nothing is called.
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"

import logging

from samcli.yamlhelper import parse_yaml_file
from samtranslator.translator.transform import transform

# The translator logs feature-toggle and metrics chatter at INFO/WARNING; errors are raised.
logging.disable(logging.WARNING)

ROOT = pathlib.Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"

# Values for the parameters that have no default (or an empty one that the defaults' conditions
# need), as a deployer would give them.
SAMPLES = {
    "DatabaseHost": "supplierdb.cluster-abcdefghijkl.us-east-1.rds.amazonaws.com",
    "DatabaseSecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds-db-credentials-AbCdEf",
    "VpcId": "vpc-0123456789abcdef0",
    "DatabaseSubnetIds": "subnet-0123456789abcdef0,subnet-0123456789abcdef1",
    "DatabaseSecurityGroupId": "sg-0123456789abcdef0",
    "PrivateRouteTableIds": "rtb-0123456789abcdef0,rtb-0123456789abcdef1",
}

# Every value of each parameter that switches a condition. The script refuses to run when a
# condition names a parameter missing here, so a new switch cannot go untranslated.
SWITCHES = {
    "ApiAuth": ["IAM", "API_KEY"],
    "SetApiGatewayLogsRole": ["true", "false"],
    "OrdersEmail": ["", "orders@example.com"],
    "ManagerEmail": ["", "manager@example.com"],
    "OpsEmail": ["", "ops@example.com"],
    "CreateS3Endpoint": ["true", "false"],
    "CreateSecretsManagerEndpoint": ["true", "false"],
    "ReaderReservedConcurrency": ["2", "0"],
    # The report schedule is created only when one is set.
    "ReportSchedule": ["", "cron(0 7 ? * MON-FRI *)"],
}

PSEUDO = {
    "AWS::Region": "us-east-1",
    "AWS::Partition": "aws",
    "AWS::AccountId": "123456789012",
    "AWS::StackName": "cafe",
    "AWS::URLSuffix": "amazonaws.com",
}


class NoManagedPolicies:
    """The template names no AWS managed policy by name, so the transform needs no IAM lookup."""

    def load(self):
        return {}


def condition_parameters(node):
    """The parameters a condition refers to, through `Ref` or `Fn::Sub`."""
    if isinstance(node, dict):
        found = set()
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            else:
                found |= condition_parameters(value)
        return found
    if isinstance(node, list):
        return set().union(*map(condition_parameters, node)) if node else set()
    return set()


def packaged(template):
    """The template as `sam package` uploads it: code and definitions in S3."""
    template = copy.deepcopy(template)
    for name, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::Function":
            properties["CodeUri"] = f"s3://cafe-artifacts/{name}.zip"
        if resource["Type"] == "AWS::Serverless::StateMachine":
            properties["DefinitionUri"] = {"Bucket": "cafe-artifacts", "Key": f"{name}.asl.json"}
    return template


def variants(template):
    """(name, parameter values): the defaults, then each switch's other values one at a time."""
    parameters = template["Parameters"]
    switched = set()
    for condition in template.get("Conditions", {}).values():
        switched |= condition_parameters(condition) & set(parameters)
    missing = switched - set(SWITCHES)
    if missing:
        sys.exit(f"transform.py: conditions switch on {sorted(missing)}; add their values to SWITCHES")
    stale = set(SWITCHES) - set(parameters)
    if stale:
        sys.exit(f"transform.py: SWITCHES names {sorted(stale)}, which the template does not have")
    defaults = {name: str(spec.get("Default", "")) for name, spec in parameters.items()}
    defaults.update(SAMPLES)
    yield "defaults", defaults
    for name, values in SWITCHES.items():
        for value in values:
            if value != defaults[name]:
                yield f"{name}-{file_name_part(value)}", {**defaults, name: value}


def file_name_part(value):
    """A parameter value as it names a variant's file: `cron(0 7 ? * MON-FRI *)` as
    `cron_0_7_MON-FRI`, so that no shell glob or space reaches the file names."""
    return re.sub(r"[^\w.@-]+", "_", value).strip("_") or "empty"


def translate(template, values):
    """The translated template, which records the parameter values it was translated with."""
    parameter_values = {**values, **PSEUDO}
    for name, spec in template["Parameters"].items():
        if spec.get("Type", "").startswith("List<") or spec.get("Type") == "CommaDelimitedList":
            parameter_values[name] = values[name].split(",")
    translated = transform(copy.deepcopy(template), parameter_values, NoManagedPolicies())
    translated.setdefault("Metadata", {})["CafeTranslatedWith"] = values
    return translated


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", default=str(TEMPLATE))
    parser.add_argument("--out", default=str(ROOT / "target" / "sam"))
    args = parser.parse_args()

    template = packaged(parse_yaml_file(args.template))
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.json"):
        old.unlink()
    failed = False
    for name, values in variants(template):
        try:
            translated = translate(template, values)
        except Exception as error:  # the translator raises one exception type per kind of fault
            failed = True
            print(f"transform [{name}]: {error}", file=sys.stderr)
            continue
        (out / f"{name}.json").write_text(json.dumps(translated, indent=1, sort_keys=True))
        print(f"transform [{name}]: ok → {out / (name + '.json')}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
