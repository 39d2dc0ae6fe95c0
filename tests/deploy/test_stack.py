"""The stack created by a CloudFormation engine (`make test-deploy`): LocalStack's, in host mode,
fed what `make deploy` uploads.

For each auth mode the translated template (deploy/transform.py: LocalStack's engine is given the
SAM transform's output rather than running the transform itself) goes to S3 with the functions'
zips (`make build`'s bootstraps) and the state machine's definition, and the stack is created
there. What it then holds is asserted from the deployed resources, not from the template: both
event-source mappings, the orders queue's redrive, the topics' encryption and subscriptions,
every alarm's actions, the bucket's policy and public-access block. Then a parameter is changed
(UPDATE_COMPLETE, and the change is there), the stack deleted and created again.

LocalStack on a machine without Docker or internet needs two patches, in the harness only
(tests/api-gateway/localstack_no_docker.py): functions are created without preparing them to
run, and DynamoDB is served by moto. Where LocalStack differs from AWS: tests/deploy/README.md.

    python3 tests/api-gateway/run.py --stack      (make test-deploy)
"""

import json
import os
import socket
import subprocess
import time
from pathlib import Path

import boto3
import pytest
from check_build import TARGET
from environment import functions
from localstack_host import LocalStack

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
LAUNCHER = ROOT / "tests" / "api-gateway" / "localstack_no_docker.py"
PORT = int(os.environ.get("LOCALSTACK_STACK_PORT") or 4569)
SERVICES = [
    "cloudformation", "s3", "lambda", "dynamodb", "dynamodbstreams", "sqs", "sns", "kms", "cloudwatch",
    "logs", "iam", "sts", "stepfunctions", "apigateway", "events", "ec2", "secretsmanager", "ssm",
]  # fmt: skip
BUCKET = "cafe-artifacts"
# The two auth modes: the translated variants that differ in what is created.
VARIANTS = {"defaults": "cafe-iam", "ApiAuth-API_KEY": "cafe-apikey"}
EMAILS = {"OpsEmail": "ops@example.com", "ManagerEmail": "manager@example.com", "OrdersEmail": ""}
DONE = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "DELETE_COMPLETE")
TIMEOUT = 600


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def aws():
    moto_port = free_port()
    moto = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "moto_server"), "-H", "127.0.0.1", "-p", str(moto_port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.environ["DYNAMODB_LOCAL_PORT"] = str(moto_port)
    server = LocalStack(PORT, SERVICES, str(LAUNCHER))
    try:
        server.start()
        settings = {
            "endpoint_url": server.endpoint,
            "region_name": "us-east-1",
            "aws_access_key_id": "test",
            "aws_secret_access_key": "test",
        }
        yield lambda service: boto3.client(service, **settings)
    finally:
        server.stop()
        moto.terminate()
        moto.wait(timeout=10)


@pytest.fixture(scope="module")
def uploaded(aws):
    """What `make deploy` uploads, in a bucket: each function's zip, the definition, the templates."""
    s3 = aws("s3")
    s3.create_bucket(Bucket=BUCKET)
    for variant in VARIANTS:
        template = json.loads((ROOT / "target" / "sam" / f"{variant}.json").read_text())
        for name, resource in template["Resources"].items():
            if resource["Type"] == "AWS::Lambda::Function":
                code = resource["Properties"]["Code"]
                s3.put_object(Bucket=code["S3Bucket"], Key=code["S3Key"], Body=zipped(name))
            if resource["Type"] == "AWS::StepFunctions::StateMachine":
                location = resource["Properties"]["DefinitionS3Location"]
                definition = (ROOT / "statemachine" / "report.asl.json").read_bytes()
                s3.put_object(Bucket=location["Bucket"], Key=location["Key"], Body=definition)
        # Over the 51,200 bytes a TemplateBody may have: from S3, as sam deploy sends it.
        s3.put_object(Bucket=BUCKET, Key=f"{variant}.json", Body=json.dumps(template))
    return s3


def zipped(logical_id):
    """The zip `make build` made of the function's bootstrap (deploy/check_build.py)."""
    archive = TARGET / "lambda" / dict(functions())[logical_id] / "bootstrap.zip"
    if not archive.is_file():
        pytest.fail(f"{archive} is missing: run make build (make test-deploy does)")
    return archive.read_bytes()


@pytest.fixture(scope="module")
def network(aws):
    """What the stack's parameters name in the account: a VPC, subnets, the database's security
    group, route tables and the reader's secret."""
    ec2 = aws("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"us-east-1{zone}")["Subnet"][
            "SubnetId"
        ]
        for i, zone in ((1, "a"), (2, "b"))
    ]
    group = ec2.create_security_group(GroupName="coffee-db", Description="the database", VpcId=vpc)["GroupId"]
    tables = [ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"] for _ in subnets]
    secret = aws("secretsmanager").create_secret(Name="cafe/reader", SecretString='{"password": "x"}')["ARN"]
    return {
        "VpcId": vpc,
        "DatabaseSubnetIds": ",".join(subnets),
        "DatabaseSecurityGroupId": group,
        "PrivateRouteTableIds": ",".join(tables),
        "DatabaseSecretArn": secret,
    }


def parameters(variant, network, **changes):
    template = json.loads((ROOT / "target" / "sam" / f"{variant}.json").read_text())
    values = {**template["Metadata"]["CafeTranslatedWith"], **network, **EMAILS, **changes}
    return [{"ParameterKey": k, "ParameterValue": str(v)} for k, v in values.items() if k in template["Parameters"]]


def wait(cloudformation, stack):
    deadline = time.monotonic() + TIMEOUT
    while True:
        try:
            status = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
        except cloudformation.exceptions.ClientError as e:
            if "does not exist" in str(e):
                return "DELETE_COMPLETE"
            raise
        if not status.endswith("_IN_PROGRESS"):
            return status
        assert time.monotonic() < deadline, f"{stack} still {status} after {TIMEOUT} s"
        time.sleep(2)


def failures(cloudformation, stack):
    events = cloudformation.describe_stack_events(StackName=stack)["StackEvents"]
    return [
        f"{e['LogicalResourceId']} ({e['ResourceType']}): {e.get('ResourceStatusReason', '')}"
        for e in events
        if e["ResourceStatus"].endswith("FAILED")
    ]


def create(aws, uploaded, variant, network):
    cloudformation, stack = aws("cloudformation"), VARIANTS[variant]
    cloudformation.create_stack(
        StackName=stack,
        TemplateURL=f"{uploaded.meta.endpoint_url}/{BUCKET}/{variant}.json",
        Parameters=parameters(variant, network),
        Capabilities=["CAPABILITY_IAM"],
    )
    status = wait(cloudformation, stack)
    assert status == "CREATE_COMPLETE", failures(cloudformation, stack)
    return {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cloudformation.describe_stack_resources(StackName=stack)["StackResources"]
    }


def queue_arn(sqs, url):
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def assert_deployed(aws, variant, created):
    """What the stack holds, read from the services."""
    sqs, sns, lam = aws("sqs"), aws("sns"), aws("lambda")
    queues = {name: created[name] for name in ("OrdersQueue", "OrdersDeadLetterQueue", "NotifierFailureQueue")}

    # The orders queue parks a message in orders-dlq after 10 receives.
    redrive = json.loads(
        sqs.get_queue_attributes(QueueUrl=queues["OrdersQueue"], AttributeNames=["RedrivePolicy"])["Attributes"][
            "RedrivePolicy"
        ]
    )
    assert redrive["deadLetterTargetArn"] == queue_arn(sqs, queues["OrdersDeadLetterQueue"])
    assert int(redrive["maxReceiveCount"]) == 10

    # Both event sources call the alias live, report partial failures, and the stream parks.
    mappings = {
        m["EventSourceArn"].split(":")[2]: m
        for m in lam.list_event_source_mappings()["EventSourceMappings"]
        if m["FunctionArn"].split(":")[6].startswith(f"{VARIANTS[variant]}-")
    }
    writer, notifier = mappings["sqs"], mappings["dynamodb"]
    assert writer["FunctionArn"].endswith(f":function:{VARIANTS[variant]}-order-writer:live")
    assert writer["EventSourceArn"] == queue_arn(sqs, queues["OrdersQueue"])
    assert (writer["BatchSize"], writer["FunctionResponseTypes"]) == (10, ["ReportBatchItemFailures"])
    assert notifier["FunctionArn"].endswith(f":function:{VARIANTS[variant]}-order-notifier:live")
    assert notifier["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert notifier["BisectBatchOnFunctionError"] is True
    assert notifier["MaximumRetryAttempts"] == 5
    assert notifier["DestinationConfig"]["OnFailure"]["Destination"] == queue_arn(sqs, queues["NotifierFailureQueue"])

    # Every topic is encrypted; the emails given are subscribed where they belong.
    topics = {name: created[name] for name in ("OrderNotificationsTopic", "EmailReportTopic", "OpsTopic")}
    for name, arn in topics.items():
        assert sns.get_topic_attributes(TopicArn=arn)["Attributes"].get("KmsMasterKeyId"), f"{name} is not encrypted"
    subscribed = {(s["TopicArn"], s["Protocol"], s["Endpoint"]) for s in sns.list_subscriptions()["Subscriptions"]}
    assert (topics["OpsTopic"], "email", EMAILS["OpsEmail"]) in subscribed
    assert (topics["EmailReportTopic"], "email", EMAILS["ManagerEmail"]) in subscribed
    assert not any(arn == topics["OrderNotificationsTopic"] for arn, _, _ in subscribed), "no orders email given"

    # Every alarm notifies the ops topic, on ALARM and on OK.
    alarms = aws("cloudwatch").describe_alarms(AlarmNamePrefix=f"{VARIANTS[variant]}-")["MetricAlarms"]
    assert len(alarms) == sum(1 for name in created if name in alarm_names(variant))
    for alarm in alarms:
        assert alarm["AlarmActions"] == [topics["OpsTopic"]], alarm["AlarmName"]
        assert alarm["OKActions"] == [topics["OpsTopic"]], alarm["AlarmName"]

    # The reports bucket: no public access, and a policy that refuses plain HTTP.
    s3, bucket = aws("s3"), created["ReportsBucket"]
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4, block
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    assert any(
        s["Effect"] == "Deny" and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
        for s in policy["Statement"]
    ), policy


def alarm_names(variant):
    template = json.loads((ROOT / "target" / "sam" / f"{variant}.json").read_text())
    return {name for name, r in template["Resources"].items() if r["Type"] == "AWS::CloudWatch::Alarm"}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_created_updated_deleted_and_created_again(aws, uploaded, network, variant):
    cloudformation, stack = aws("cloudformation"), VARIANTS[variant]
    created = create(aws, uploaded, variant, network)
    assert_deployed(aws, variant, created)
    if variant == "ApiAuth-API_KEY":
        assert "CafeApiKey" in created and "OrdersClientPolicy" not in created
    else:
        assert "OrdersClientPolicy" in created and "CafeApiKey" not in created

    # A parameter changed: the emailed link works 10 minutes instead of 15 in the mailer's
    # configuration. (On AWS a version with it is published and CodeDeploy moves live to it;
    # LocalStack's update publishes none and drops the alias: tests/deploy/README.md.)
    cloudformation.update_stack(
        StackName=stack,
        TemplateURL=f"{uploaded.meta.endpoint_url}/{BUCKET}/{variant}.json",
        Parameters=parameters(variant, network, ReportLinkExpirySeconds="600"),
        Capabilities=["CAPABILITY_IAM"],
    )
    assert wait(cloudformation, stack) == "UPDATE_COMPLETE", failures(cloudformation, stack)
    latest = aws("lambda").get_function_configuration(FunctionName=f"{stack}-report-mailer")
    assert latest["Environment"]["Variables"]["REPORT_LINK_EXPIRY_SECONDS"] == "600"

    cloudformation.delete_stack(StackName=stack)
    assert wait(cloudformation, stack) == "DELETE_COMPLETE"
    assert_deployed(aws, variant, create(aws, uploaded, variant, network))
