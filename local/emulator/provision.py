"""Every resource both pipelines use, created in the emulator as `local/resources.py` reads them
from template.yaml: the orders queue with its DLQ, the queue stream failures are described on,
the orders table with its stream, the topics with their email subscribers, the reports bucket,
the Lambda registrations (the code itself is served by `cargo lambda watch`, see `patches`) and
the report state machine, its definition with the placeholders filled in.
"""

import copy
import json
from typing import Any

from . import ROOT

# Locally a failed message is made visible again by the gateway after a short delay
# (SQS_RETRY_DELAY_SECONDS); the template's longer timeout would only slow the retries down.
LOCAL_VISIBILITY_TIMEOUT_SECONDS = 30


def provision(endpoint: str, plan: dict[str, Any]) -> dict[str, Any]:
    """Creates every resource `plan` (`resources.local_resources()`) names in the emulator at
    `endpoint`; returns the plan with what was created filled in (each queue's `url` and `arn`,
    the table's `streamArn`, each topic's `arn`, the state machine's `arn`), as the ready file
    gives it to the gateway and the tests."""
    import boto3

    created = copy.deepcopy(plan)
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=plan["region"])
    client = lambda service: session.client(service, endpoint_url=endpoint)  # noqa: E731
    sqs, dynamodb, sns, s3 = (client(s) for s in ("sqs", "dynamodb", "sns", "s3"))
    iam, lam, sfn = (client(s) for s in ("iam", "lambda", "stepfunctions"))

    def create_queue(queue: dict[str, Any], **attributes: str) -> None:
        queue["url"] = sqs.create_queue(QueueName=queue["name"], Attributes=attributes)["QueueUrl"]
        queue["arn"] = sqs.get_queue_attributes(QueueUrl=queue["url"], AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]

    dlq, queue = created["ordersDeadLetterQueue"], created["ordersQueue"]
    create_queue(dlq)
    redrive = {"deadLetterTargetArn": dlq["arn"], "maxReceiveCount": str(queue["maxReceiveCount"])}
    create_queue(queue, VisibilityTimeout=str(LOCAL_VISIBILITY_TIMEOUT_SECONDS), RedrivePolicy=json.dumps(redrive))
    create_queue(created["notifierFailuresQueue"])

    table = created["ordersTable"]
    table["streamArn"] = dynamodb.create_table(
        TableName=table["name"],
        AttributeDefinitions=table["attributeDefinitions"],
        KeySchema=table["keySchema"],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": table["streamViewType"]},
    )["TableDescription"]["LatestStreamArn"]

    for name, topic in created["topics"].items():
        topic["arn"] = sns.create_topic(Name=name)["TopicArn"]
        for subscriber in topic["subscribers"]:
            sns.subscribe(TopicArn=topic["arn"], Protocol=subscriber["protocol"], Endpoint=subscriber["endpoint"])
    s3.create_bucket(Bucket=created["reportsBucket"])

    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Principal": {"Service": ["lambda.amazonaws.com", "states.amazonaws.com"]},
            }
        ],
    }
    role = iam.create_role(RoleName="cafe-local", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    for name in created["functions"]:
        # The code lives with `cargo lambda watch`; moto only needs the registration.
        lam.create_function(
            FunctionName=name,
            Runtime="provided.al2023",
            Role=role["Arn"],
            Handler="bootstrap",
            Code={"ZipFile": b"served by cargo lambda watch"},
        )

    machine = created["stateMachine"]
    definition = (ROOT / machine["definition"]).read_text(encoding="utf-8")
    for name, value in machine["substitutions"].items():
        definition = definition.replace("${" + name + "}", value)
    machine["arn"] = sfn.create_state_machine(name=machine["name"], definition=definition, roleArn=role["Arn"])[
        "stateMachineArn"
    ]
    return created
