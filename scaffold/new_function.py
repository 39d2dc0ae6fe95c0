"""`make new-function NAME=<name> [DESCRIPTION=…]`: a new Lambda function, whole.

It writes
- the crate `functions/<name>/` from `scaffold/function/`: a thin `main.rs`, the logic and its
  unit tests in `lib.rs`, and a test that the sample event is answered;
- its sample event, `events/<name>/default.json`, which `make invoke FN=<name>` sends;
- into template.yaml: its log group, its role (its own logs and X-Ray, nothing else), the
  function, its Errors, NewVersionErrors (its rollouts' rollback) and Throttles alarms (notifying
  the ops topic, pointing to the runbook) and its rows in the dashboard's alarm list and its errors, throttles and cold-start widgets;
- the crate graph in docs/architecture.md (`make docs`).

What it writes passes `make validate` and `make unit` as it is (`scaffold/prove.sh`, run by CI,
proves it in a throwaway copy). The function's permissions, settings and event source are then
yours to add, in the template beside the ones written here.
"""

import argparse
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CRATE_TEMPLATE = Path(__file__).resolve().parent / "function"
TEMPLATE = ROOT / "template.yaml"
# Lambda takes function names of up to 64 characters; the stack's name and a hyphen come first.
MAX_NAME = 40
NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
RESOURCES_MARK = "  # make new-function adds each new function's log group, role and function above this line.\n"
ALARMS_MARK = "  # make new-function adds each new function's alarms above this line.\n"
# The dashboard's widgets with a row per function, and the metric of each row.
FUNCTION_WIDGETS = {
    "Lambda errors": ["AWS/Lambda", "Errors"],
    "Lambda throttles": ["AWS/Lambda", "Throttles"],
    "Cold starts": ["Cafe", "ColdStart"],
}

RESOURCES = """\
  @Id@Logs:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: !Sub "/aws/lambda/${AWS::StackName}-@name@"
      RetentionInDays: !Ref LogRetentionDays

  @Id@Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal:
              Service: lambda.amazonaws.com
            Action: sts:AssumeRole
      Policies:
        - PolicyName: least-privilege
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: [logs:CreateLogStream, logs:PutLogEvents]
                Resource: !GetAtt @Id@Logs.Arn
              # X-Ray's write calls do not support resource-level permissions.
              - Effect: Allow
                Action: [xray:PutTraceSegments, xray:PutTelemetryRecords]
                Resource: "*"

  @Id@:
    Type: AWS::Serverless::Function
    Metadata:
      BuildMethod: rust-cargolambda
    Properties:
      FunctionName: !Sub "${AWS::StackName}-@name@"
      Description: @quoted_description@
      CodeUri: functions/@name@
      LoggingConfig:
        LogFormat: JSON
        LogGroup: !Ref @Id@Logs
      Role: !GetAtt @Id@Role.Arn
      AutoPublishAliasAllProperties: true
      DeploymentPreference:
        Alarms: [!Ref @Id@NewVersionErrors]

"""

ALARMS = """\
  @Id@Errors:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmName: !Sub "${AWS::StackName}-@Id@Errors"
      AlarmDescription: >-
        @name@ failed invocations (an error, a crash or a timeout). Runbook: docs/operations.md,
        section "Runbook", @Id@Errors.
      Namespace: AWS/Lambda
      MetricName: Errors
      Dimensions:
        - Name: FunctionName
          Value: !Ref @Id@
      Statistic: Sum
      Period: 60
      EvaluationPeriods: 1
      Threshold: 0
      ComparisonOperator: GreaterThanThreshold
      TreatMissingData: notBreaching
      AlarmActions: [!Ref OpsTopic]
      OKActions: [!Ref OpsTopic]

  @Id@NewVersionErrors:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmName: !Sub "${AWS::StackName}-@Id@NewVersionErrors"
      AlarmDescription: >-
        @name@'s newest version failed invocations made through the alias live; it stops a rollout
        and moves live back. Runbook: docs/operations.md, section "Runbook", @Id@NewVersionErrors.
      Namespace: AWS/Lambda
      MetricName: Errors
      Dimensions:
        - Name: FunctionName
          Value: !Ref @Id@
        - Name: Resource
          Value: !Sub "${@Id@}:live"
        - Name: ExecutedVersion
          Value: !GetAtt @Id@.Version.Version
      Statistic: Sum
      Period: 60
      EvaluationPeriods: 1
      Threshold: 0
      ComparisonOperator: GreaterThanThreshold
      TreatMissingData: notBreaching
      AlarmActions: [!Ref OpsTopic]
      OKActions: [!Ref OpsTopic]

  @Id@Throttles:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmName: !Sub "${AWS::StackName}-@Id@Throttles"
      AlarmDescription: >-
        Lambda refused to run @name@ (the account's concurrency is used up). Runbook:
        docs/operations.md, section "Runbook", @Id@Throttles.
      Namespace: AWS/Lambda
      MetricName: Throttles
      Dimensions:
        - Name: FunctionName
          Value: !Ref @Id@
      Statistic: Sum
      Period: 60
      EvaluationPeriods: 1
      Threshold: 0
      ComparisonOperator: GreaterThanThreshold
      TreatMissingData: notBreaching
      AlarmActions: [!Ref OpsTopic]
      OKActions: [!Ref OpsTopic]

"""


class ScaffoldError(Exception):
    """The function cannot be made as asked; the message says why."""


def names(name: str, description: str) -> dict[str, str]:
    """The placeholders of the templates: `@name@` (the crate and the function), `@crate@` (its Rust
    path), `@Type@` and `@Id@` (its Rust type prefix and CloudFormation logical id, both
    CamelCase), `@description@` (and quoted, for YAML and TOML)."""
    camel = "".join(part.capitalize() for part in name.split("-"))
    return {
        "@name@": name,
        "@crate@": name.replace("-", "_"),
        "@Type@": camel,
        "@Id@": camel,
        # A double-quoted string as JSON writes it, which YAML and TOML read alike.
        "@quoted_description@": json.dumps(description, ensure_ascii=False),
        "@description@": description,
    }


def filled(text: str, placeholders: dict[str, str]) -> str:
    for placeholder, value in placeholders.items():
        text = text.replace(placeholder, value)
    return text


def check_request(root: Path, name: str, description: str, template: str) -> None:
    if not NAME.match(name):
        raise ScaffoldError(
            f"{name!r}: a name is lowercase letters and digits in words joined by hyphens, e.g. stock-alert"
        )
    if len(name) > MAX_NAME:
        raise ScaffoldError(f"{name!r}: at most {MAX_NAME} characters (Lambda's 64, less the stack's name)")
    if not description or "\n" in description or len(description) > 256:
        raise ScaffoldError("DESCRIPTION: one line of at most 256 characters (Lambda's limit)")
    for path in (f"functions/{name}", f"events/{name}"):
        if (root / path).exists():
            raise ScaffoldError(f"{path} exists already")
    # A package of the workspace or a dependency of that name would clash with the new crate.
    lock = root / "Cargo.lock"
    packages = (
        set(re.findall(r'^name = "([^"]+)"$', lock.read_text(encoding="utf-8"), re.M)) if lock.is_file() else set()
    )
    if name in packages or name.replace("-", "_") in packages:
        raise ScaffoldError(f"{name!r} is the name of a package in Cargo.lock: the crate would clash with it")
    logical_id = names(name, description)["@Id@"]
    taken = [f"{logical_id}{suffix}" for suffix in ("", "Logs", "Role", "Errors", "NewVersionErrors", "Throttles")]
    clash = [resource for resource in taken if re.search(rf"^  {resource}:", template, re.M)]
    if clash:
        raise ScaffoldError(f"template.yaml has {', '.join(clash)} already")


def add_to_dashboard(template: str, placeholders: dict[str, str]) -> str:
    """The function's alarms in the alarm widget, and a row in each widget with a row per function."""
    logical_id, name = placeholders["@Id@"], placeholders["@name@"]
    alarms = re.compile(r'("alarms": \[[^\]]*)(\]\}\},)')
    if not alarms.search(template):
        raise ScaffoldError("template.yaml: the dashboard has no alarm widget to add the alarms to")
    template = alarms.sub(
        lambda m: (
            f'{m.group(1)},\n                "${{{logical_id}Errors.Arn}}", "${{{logical_id}NewVersionErrors.Arn}}",'
            f' "${{{logical_id}Throttles.Arn}}"{m.group(2)}'
        ),
        template,
        count=1,
    )
    for title, (namespace, metric) in FUNCTION_WIDGETS.items():
        widget = re.compile(rf'("title": "{title}",(?:.*\n)*?.*\])(\]\}}\}},)')
        if not widget.search(template):
            raise ScaffoldError(f"template.yaml: the dashboard has no widget {title!r}")
        row = f'["{namespace}", "{metric}", "FunctionName", "${{{logical_id}}}", {{"label": "{name}"}}]'
        template = widget.sub(lambda m, row=row: f"{m.group(1)},\n                {row}{m.group(2)}", template, count=1)
    return template


def add_to_template(template: str, placeholders: dict[str, str]) -> str:
    for mark in (RESOURCES_MARK, ALARMS_MARK):
        if template.count(mark) != 1:
            raise ScaffoldError(f"template.yaml: the line {mark.strip()!r} is not there once")
    template = template.replace(RESOURCES_MARK, filled(RESOURCES, placeholders) + RESOURCES_MARK)
    template = template.replace(ALARMS_MARK, filled(ALARMS, placeholders) + ALARMS_MARK)
    return add_to_dashboard(template, placeholders)


def write_crate(root: Path, placeholders: dict[str, str]) -> list[Path]:
    name = placeholders["@name@"]
    written = []
    for source in sorted(CRATE_TEMPLATE.rglob("*")):
        if source.is_dir():
            continue
        relative = source.relative_to(CRATE_TEMPLATE)
        # The sample event lives with the others, under events/.
        target = root / (
            f"events/{name}/default.json" if relative.name == "default.json" else f"functions/{name}/{relative}"
        )
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(filled(source.read_text(encoding="utf-8"), placeholders), encoding="utf-8")
        written.append(target.relative_to(root))
    return written


def scaffold(root: Path, name: str, description: str) -> list[Path]:
    template_path = root / "template.yaml"
    template = template_path.read_text(encoding="utf-8")
    check_request(root, name, description, template)
    placeholders = names(name, description)
    # Everything is worked out before anything is written: a refusal leaves the tree as it was.
    new_template = add_to_template(template, placeholders)
    written = write_crate(root, placeholders)
    template_path.write_text(new_template, encoding="utf-8")
    return [*written, Path("template.yaml")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", help="the function's and its crate's name, e.g. stock-alert")
    parser.add_argument("--description", default="", help="one line: what it does (default: made from the name)")
    args = parser.parse_args()
    description = args.description or f"The {args.name.replace('-', ' ')} function"
    try:
        written = scaffold(ROOT, args.name, description)
    except ScaffoldError as error:
        print(f"make new-function: {error}", file=sys.stderr)
        return 2
    # Writes the crate graph; any other problem the docs check finds is printed, not fatal here.
    subprocess.run([sys.executable, str(ROOT / "tests/docs.py"), "--write"], cwd=ROOT, check=False)
    cargo = shutil.which("cargo") or "cargo"
    subprocess.run([cargo, "fmt", "--package", args.name], cwd=ROOT, check=True)
    print("\n".join(f"  wrote {path}" for path in written) + "\n  wrote docs/architecture.md (the crate graph)")
    print(
        f"""
Next:
  cargo test -p {args.name}                     # its unit tests and its sample event
  make validate                                  # the template, with its role, alarms and dashboard rows
  make local-up && make invoke FN={args.name}   # run it on the local stack
Then give it what it does: functions/{args.name}/src/lib.rs, and in template.yaml its permissions
(in {names(args.name, description)["@Id@"]}Role), settings and event source."""
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
