"""Every resource both pipelines use, created in the emulator under the names the deployed stack
uses (each can be renamed by the environment variable of its name, see `NAMES`): the orders
queue with its DLQ, the queue stream failures are described on, the orders table with its
stream, the two topics with their email subscribers, the reports bucket, the Lambda
registrations (the code itself is served by `cargo lambda watch`, see `patches`) and the
report state machine, the real `statemachine/report.asl.json` with its placeholders filled in.
"""

import json

from . import ROOT

ACCOUNT = "123456789012"
# Each resource's name: the environment variable that renames it, and the deployed stack's name.
NAMES = {
    "ORDERS_TABLE": "orders",
    "ORDERS_QUEUE": "orders-queue",
    "ORDERS_DLQ": "orders-dlq",
    "NOTIFIER_FAILURES_QUEUE": "notifier-failures",
    "ORDER_TOPIC": "OrderNotifications",
    "REPORT_TOPIC": "EmailReport",
    "REPORTS_BUCKET": "cafe-reports",
    "STATE_MACHINE": "InventoryReport",
    "ORDERS_EMAIL": "orders@cafe.example",
    "MANAGER_EMAIL": "manager@cafe.example",
}
# A message that fails this many receives is moved to the DLQ.
MAX_RECEIVE_COUNT = 3
FUNCTIONS = ["order-writer", "order-notifier", "inventory-reader", "report-renderer", "report-mailer"]


def substitutions(region, names):
    """The state machine's ${…} placeholders, as SAM's DefinitionSubstitutions fill them."""
    return {
        "InventoryReaderArn": f"arn:aws:lambda:{region}:{ACCOUNT}:function:inventory-reader",
        "ReportRendererArn": f"arn:aws:lambda:{region}:{ACCOUNT}:function:report-renderer",
        "ReportMailerArn": f"arn:aws:lambda:{region}:{ACCOUNT}:function:report-mailer",
        "ReportTopicArn": f"arn:aws:sns:{region}:{ACCOUNT}:{names['REPORT_TOPIC']}",
    }


def provision(endpoint, region, names):
    """Creates every resource in the emulator at `endpoint`, named as `names` (`NAMES`' keys)
    say; returns what was created, as the ready file lists it."""
    import boto3

    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region
    )
    client = lambda service: session.client(service, endpoint_url=endpoint)  # noqa: E731
    sqs, dynamodb, sns, s3 = (client(s) for s in ("sqs", "dynamodb", "sns", "s3"))
    iam, lam, sfn = (client(s) for s in ("iam", "lambda", "stepfunctions"))

    dlq_url = sqs.create_queue(QueueName=names["ORDERS_DLQ"])["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVE_COUNT)}
    sqs.create_queue(
        QueueName=names["ORDERS_QUEUE"],
        Attributes={"VisibilityTimeout": "30", "RedrivePolicy": json.dumps(redrive)},
    )

    sqs.create_queue(QueueName=names["NOTIFIER_FAILURES_QUEUE"])

    dynamodb.create_table(
        TableName=names["ORDERS_TABLE"],
        AttributeDefinitions=[{"AttributeName": "orderID", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "orderID", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )

    order_topic, report_topic = names["ORDER_TOPIC"], names["REPORT_TOPIC"]
    topics = {name: sns.create_topic(Name=name)["TopicArn"] for name in (order_topic, report_topic)}
    sns.subscribe(TopicArn=topics[order_topic], Protocol="email", Endpoint=names["ORDERS_EMAIL"])
    sns.subscribe(TopicArn=topics[report_topic], Protocol="email", Endpoint=names["MANAGER_EMAIL"])
    s3.create_bucket(Bucket=names["REPORTS_BUCKET"])

    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
             "Principal": {"Service": ["lambda.amazonaws.com", "states.amazonaws.com"]}}]}
    role = iam.create_role(RoleName="cafe-local", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    for name in FUNCTIONS:
        # The code lives with `cargo lambda watch`; moto only needs the registration.
        lam.create_function(FunctionName=name, Runtime="provided.al2023", Role=role["Arn"],
                            Handler="bootstrap", Code={"ZipFile": b"served by cargo lambda watch"})

    definition = (ROOT / "statemachine" / "report.asl.json").read_text(encoding="utf-8")
    for name, value in substitutions(region, names).items():
        definition = definition.replace("${" + name + "}", value)
    machine = sfn.create_state_machine(name=names["STATE_MACHINE"], definition=definition,
                                       roleArn=role["Arn"])
    return {
        "queue": names["ORDERS_QUEUE"],
        "dlq": names["ORDERS_DLQ"],
        "notifierFailures": names["NOTIFIER_FAILURES_QUEUE"],
        "table": names["ORDERS_TABLE"],
        "topics": topics,
        "bucket": names["REPORTS_BUCKET"],
        "stateMachine": machine["stateMachineArn"],
        "functions": FUNCTIONS,
    }
