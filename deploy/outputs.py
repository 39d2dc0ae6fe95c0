"""The deployed stack's resources as the operator's verbs (`cafe-ops`) read them: its outputs,
printed as shell `export` lines, for `make redrive-orders DEPLOYED=1` and
`make replay-notifications DEPLOYED=1`. Uses your AWS credentials and region, as `sam deploy` does.

    python deploy/outputs.py <stack-name>
"""

import shlex
import sys

# cafe-ops's variable ← the template's output.
VARIABLES = {
    "ORDERS_QUEUE_URL": "OrdersQueueUrl",
    "ORDERS_DLQ_URL": "OrdersDeadLetterQueueUrl",
    "NOTIFIER_FAILURES_QUEUE_URL": "NotifierFailureQueueUrl",
    "ORDERS_TABLE": "OrdersTableName",
    "ORDER_TOPIC_ARN": "OrderNotificationsTopicArn",
}


def exports(outputs):
    """`export NAME=value` lines for `outputs` ({OutputKey: OutputValue}); fails naming a missing one."""
    missing = [output for output in VARIABLES.values() if output not in outputs]
    if missing:
        raise SystemExit(f"error: the stack has no output {', '.join(missing)}: deploy the current template.yaml")
    return [f"export {name}={shlex.quote(outputs[output])}" for name, output in VARIABLES.items()]


def main(stack):
    import boto3
    import botocore.exceptions

    try:
        described = boto3.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
        raise SystemExit(f"error: cannot read the outputs of stack {stack}: {e}") from None
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
    print("\n".join(exports(outputs)))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    main(sys.argv[1])
