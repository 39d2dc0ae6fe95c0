"""The deployed stack's resources as the operator's verbs (`cafe-ops`) read them: its outputs,
printed as shell `export` lines, for `make redrive-orders DEPLOYED=1` and
`make replay-notifications DEPLOYED=1`. Uses your AWS credentials and region, as `sam deploy` does.

    python deploy/outputs.py <stack-name> [<environment>]
"""

import shlex
import sys
import tomllib
from pathlib import Path

# cafe-ops's variable ← the template's output.
VARIABLES = {
    "ORDERS_QUEUE_URL": "OrdersQueueUrl",
    "ORDERS_DLQ_URL": "OrdersDeadLetterQueueUrl",
    "NOTIFIER_FAILURES_QUEUE_URL": "NotifierFailureQueueUrl",
    "ORDER_NOTIFIER_FUNCTION": "OrderNotifierFunctionName",
    # Where order-writer logs why it refused a parked order (make dlq-peek DEPLOYED=1).
    "ORDER_WRITER_LOG_GROUP": "OrderWriterLogGroupName",
}


def exports(outputs):
    """`export NAME=value` lines for `outputs` ({OutputKey: OutputValue}); fails naming a missing one."""
    missing = [output for output in VARIABLES.values() if output not in outputs]
    if missing:
        raise SystemExit(f"error: the stack has no output {', '.join(missing)}: deploy the current template.yaml")
    return [f"export {name}={shlex.quote(outputs[output])}" for name, output in VARIABLES.items()]


SAMCONFIG = Path(__file__).resolve().parent.parent / "samconfig.toml"


def deployed_region(samconfig=SAMCONFIG, environment="default"):
    """The region the environment's stack is deployed to, where samconfig.toml names one (under
    `[<environment>.deploy.parameters]` or `[<environment>.global.parameters]`); None if it names
    none (then your AWS configuration's region)."""
    if not samconfig.exists():
        return None
    settings = tomllib.loads(samconfig.read_text(encoding="utf-8")).get(environment, {})
    for command in ("deploy", "global"):
        region = settings.get(command, {}).get("parameters", {}).get("region")
        if region:
            return region
    return None


def main(stack, environment="default"):
    import boto3
    import botocore.exceptions

    # The stack's own region, so a stack of the same name elsewhere is never the one acted on.
    region = deployed_region(environment=environment)
    try:
        cloudformation = boto3.client("cloudformation", region_name=region)
        region = cloudformation.meta.region_name
        described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
        raise SystemExit(f"error: cannot read the outputs of stack {stack}: {e}") from None
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
    print("\n".join([*exports(outputs), f"export AWS_REGION={shlex.quote(region)}"]))


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        raise SystemExit(__doc__)
    main(*sys.argv[1:])
