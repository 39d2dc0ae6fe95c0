"""Puts the café API of one translated template (target/sam/<variant>.json) into LocalStack.

What CloudFormation would create around the API is made by hand, as small as the API needs: the
orders queue, a report state machine of one Pass state (this tests the API, not the report), the
API's role with the template's own policy, and, where the variant's conditions hold, the
template's API key and usage plan. The API definition is the translated template's
`CafeApi.Properties.Body` with its intrinsics resolved against those real names and ARNs, imported
with ImportRestApi and deployed to the template's stage.

LocalStack's importer leaves out parts of the definition that AWS's importer applies. Each is put
back with the API Gateway call that AWS's importer amounts to, and named in `Api.import_gaps`, so
a test can say which ones LocalStack still has (see test_deployment.py).
"""

import contextlib
import hashlib
import json
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import botocore.config
import requests
import resolve

ROOT = Path(__file__).resolve().parents[2]
SAM_OUT = ROOT / "target" / "sam"
REGION = "us-east-1"
API = "CafeApi"
PASS_STATE_MACHINE = {
    "Comment": "Stands in for the report",
    "StartAt": "Done",
    "States": {"Done": {"Type": "Pass", "End": True}},
}
SQS_ERROR = "the order queue refused the order: "
REPORT_ERROR = "the report could not be started: "
# LocalStack 2026.3.0 answers a gateway response with its own body, {"message": <its message>}, and
# only the status code of the API's gateway response: its GatewayExceptionHandler has "TODO apply
# responseTemplates". The API's templates ({"error": ...}) are checked in test_templates.py.
LOCALSTACK_BAD_REQUEST_BODY = {"message": "Invalid request body"}
LOCALSTACK_UNSUPPORTED_MEDIA_TYPE = {"message": "Unsupported Media Type"}


def clients(endpoint: str) -> dict:
    session = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name=REGION)
    config = botocore.config.Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=5, read_timeout=30)
    return {
        name: session.client(name, endpoint_url=endpoint, config=config)
        for name in ("apigateway", "sqs", "stepfunctions", "iam", "sts")
    }


def load_template(variant: str) -> dict:
    return json.loads((SAM_OUT / f"{variant}.json").read_text())


@dataclass
class Response:
    status: int
    headers: requests.structures.CaseInsensitiveDict
    body: bytes
    json: object  # the parsed body: every answer of the API is JSON


@dataclass
class Api:
    variant: str
    template: dict
    aws: dict
    endpoint: str
    api_id: str
    stage: str
    definition: dict
    queue_name: str
    queue_url: str
    queue_arn: str
    state_machine_arn: str
    role_arn: str
    api_key: str | None
    uses_api_key: bool
    import_gaps: set = field(default_factory=set)

    # -- calling the API

    @property
    def base_url(self) -> str:
        # LocalStack's documented form; /restapis/<id>/<stage>/_user_request_ is deprecated.
        return f"{self.endpoint}/_aws/execute-api/{self.api_id}/{self.stage}"

    def default_headers(self) -> dict:
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["x-api-key"] = self.api_key
        return headers

    def post(
        self, path: str, body=b"", headers: dict | None = None, replace_headers: bool = False, params=None
    ) -> Response:
        """POSTs `body` (bytes as is; str as UTF-8; anything else as JSON, non-ASCII kept) and
        asserts that the answer is JSON, declared and parsed, as every answer of this API must be."""
        if isinstance(body, str):
            body = body.encode("utf-8")
        elif not isinstance(body, (bytes, bytearray)):
            body = json.dumps(body, ensure_ascii=False).encode("utf-8")
        sent = dict(headers or {}) if replace_headers else {**self.default_headers(), **(headers or {})}
        answer = requests.post(self.base_url + path, data=bytes(body), headers=sent, params=params, timeout=30)
        text = answer.content.decode("utf-8")
        try:
            parsed = json.loads(text)
        except ValueError:
            raise AssertionError(f"POST {path} → {answer.status_code}: the body is not JSON: {text!r}") from None
        content_type = answer.headers.get("Content-Type", "")
        assert content_type.startswith("application/json"), f"POST {path} → Content-Type {content_type!r}"
        return Response(answer.status_code, answer.headers, answer.content, parsed)

    # -- what reached SQS

    def receive(self, count: int, timeout: float = 5.0) -> list:
        """The next `count` messages of the queue (deleted once read), then checks that no more
        arrived."""
        sqs = self.aws["sqs"]
        messages = []
        deadline = time.monotonic() + timeout
        while len(messages) < count and time.monotonic() < deadline:
            batch = sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=min(10, count - len(messages)),
                MessageAttributeNames=["All"],
                AttributeNames=["All"],
                WaitTimeSeconds=1,
            ).get("Messages", [])
            for message in batch:
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
            messages += batch
        assert len(messages) == count, f"expected {count} message(s) on the queue, found {len(messages)}"
        self.assert_queue_empty()
        return messages

    def assert_queue_empty(self) -> None:
        attributes = self.aws["sqs"].get_queue_attributes(
            QueueUrl=self.queue_url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            ],
        )["Attributes"]
        assert all(value == "0" for value in attributes.values()), f"the queue is not empty: {attributes}"
        extra = (
            self.aws["sqs"]
            .receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
            .get("Messages", [])
        )
        assert not extra, f"unexpected messages on the queue: {[m['Body'] for m in extra]}"

    def drain(self) -> None:
        sqs = self.aws["sqs"]
        while batch := sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
            "Messages", []
        ):
            for message in batch:
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    # -- what reached Step Functions

    def executions(self) -> list:
        return self.aws["stepfunctions"].list_executions(stateMachineArn=self.state_machine_arn)["executions"]

    def describe_execution(self, arn: str) -> dict:
        return self.aws["stepfunctions"].describe_execution(executionArn=arn)

    # -- the template's own view

    def integration(self, path: str) -> dict:
        return self.definition["paths"][path]["post"]["x-amazon-apigateway-integration"]

    def imported_method(self, path: str) -> dict:
        """POST on path as LocalStack's API Gateway holds it after the import."""
        apigw = self.aws["apigateway"]
        resource = next(r for r in apigw.get_resources(restApiId=self.api_id)["items"] if r["path"] == path)
        return apigw.get_method(restApiId=self.api_id, resourceId=resource["id"], httpMethod="POST")

    def teardown(self) -> None:
        apigw = self.aws["apigateway"]
        for call in (
            lambda: apigw.delete_rest_api(restApiId=self.api_id),
            lambda: self.aws["sqs"].delete_queue(QueueUrl=self.queue_url),
            lambda: self.aws["stepfunctions"].delete_state_machine(stateMachineArn=self.state_machine_arn),
        ):
            # Already gone (a test deleted it): nothing to clean.
            with contextlib.suppress(Exception):
                call()


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def _number(value):
    return float(value) if "." in str(value) else int(value)


def _condition_holds(resolver: resolve.Resolver, resource: dict) -> bool:
    return "Condition" not in resource or resolver.condition(resource["Condition"])


def deploy(aws: dict, endpoint: str, variant: str) -> Api:
    template = load_template(variant)
    parameters = template["Metadata"]["CafeTranslatedWith"]
    resources = template["Resources"]
    account = aws["sts"].get_caller_identity()["Account"]
    pseudo = {
        "AWS::Region": REGION,
        "AWS::Partition": "aws",
        "AWS::AccountId": account,
        "AWS::StackName": "cafe",
        "AWS::URLSuffix": "amazonaws.com",
    }
    suffix = uuid.uuid4().hex[:8]
    sqs, sfn, iam, apigw = aws["sqs"], aws["stepfunctions"], aws["iam"], aws["apigateway"]

    # The resources the definition refers to, as CloudFormation would have made them.
    queue_name = f"cafe-OrdersQueue-{suffix}"
    queue_url = sqs.create_queue(QueueName=queue_name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    trust_states = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    report_role = iam.create_role(
        RoleName=f"cafe-ReportRole-{suffix}", AssumeRolePolicyDocument=json.dumps(trust_states)
    )["Role"]["Arn"]
    machine_name = f"cafe-ReportStateMachine-{suffix}"
    machine_arn = sfn.create_state_machine(
        name=machine_name, definition=json.dumps(PASS_STATE_MACHINE), roleArn=report_role
    )["stateMachineArn"]
    role_name = f"cafe-ApiRole-{suffix}"
    known = {
        "OrdersQueue": {"Ref": queue_url, "QueueName": queue_name, "Arn": queue_arn, "QueueUrl": queue_url},
        "ReportStateMachine": {"Ref": machine_arn, "Name": machine_name, "Arn": machine_arn},
    }
    resolver = resolve.Resolver(parameters, pseudo, known, template.get("Conditions", {}))
    role_properties = resolver.resolve(resources["ApiRole"]["Properties"])
    role_arn = iam.create_role(
        RoleName=role_name, AssumeRolePolicyDocument=json.dumps(role_properties["AssumeRolePolicyDocument"])
    )["Role"]["Arn"]
    for policy in role_properties.get("Policies", []):
        iam.put_role_policy(
            RoleName=role_name, PolicyName=policy["PolicyName"], PolicyDocument=json.dumps(policy["PolicyDocument"])
        )
    known["ApiRole"] = {"Ref": role_name, "Arn": role_arn}

    definition = resolve.api_definition(template, API, pseudo, known)
    leftovers = resolve.leftover_intrinsics(definition)
    assert not leftovers, f"unresolved intrinsics in the API definition: {leftovers}"

    imported = apigw.import_rest_api(body=json.dumps(definition).encode("utf-8"), failOnWarnings=True)
    api_id = imported["id"]
    gaps = _put_back_what_the_import_left_out(apigw, api_id, definition)

    stage = next(r["Properties"]["StageName"] for r in resources.values() if r["Type"] == "AWS::ApiGateway::Stage")
    apigw.create_deployment(restApiId=api_id, stageName=stage)

    api_key = None
    key_resource = next((r for r in resources.values() if r["Type"] == "AWS::ApiGateway::ApiKey"), None)
    uses_api_key = key_resource is not None and _condition_holds(resolver, key_resource)
    if uses_api_key:
        known["CafeApi"] = {"Ref": api_id}
        for name, resource in resources.items():
            if resource["Type"] == "AWS::ApiGateway::Stage":
                known[name] = {"Ref": stage}
        key_properties = resolver.resolve(key_resource["Properties"])
        key = apigw.create_api_key(name=f"{key_properties['Name']}-{suffix}", enabled=key_properties["Enabled"])
        api_key = key["value"]
        plan_resource = next(r for r in resources.values() if r["Type"] == "AWS::ApiGateway::UsagePlan")
        plan = resolver.resolve(plan_resource["Properties"])
        throttle = lambda t: {"rateLimit": _number(t["RateLimit"]), "burstLimit": _number(t["BurstLimit"])}  # noqa: E731
        created_plan = apigw.create_usage_plan(
            name=f"{plan['UsagePlanName']}-{suffix}",
            apiStages=[
                {
                    "apiId": s["ApiId"],
                    "stage": s["Stage"],
                    "throttle": {path: throttle(t) for path, t in s.get("Throttle", {}).items()},
                }
                for s in plan["ApiStages"]
            ],
            throttle=throttle(plan["Throttle"]),
        )
        apigw.create_usage_plan_key(usagePlanId=created_plan["id"], keyId=key["id"], keyType="API_KEY")

    return Api(
        variant=variant,
        template=template,
        aws=aws,
        endpoint=endpoint,
        api_id=api_id,
        stage=stage,
        definition=definition,
        queue_name=queue_name,
        queue_url=queue_url,
        queue_arn=queue_arn,
        state_machine_arn=machine_arn,
        role_arn=role_arn,
        api_key=api_key,
        uses_api_key=uses_api_key,
        import_gaps=gaps,
    )


def _resources_by_path(apigw, api_id: str) -> dict:
    items = apigw.get_resources(restApiId=api_id, embed=["methods"], limit=500)["items"]
    return {item["path"]: item for item in items}


def _put_back_what_the_import_left_out(apigw, api_id: str, definition: dict) -> set:
    gaps = set()
    by_path = _resources_by_path(apigw, api_id)
    schemes = definition.get("components", {}).get("securitySchemes", {})
    for path, methods in definition["paths"].items():
        resource = by_path[path]
        for verb, operation in methods.items():
            method = verb.upper()
            imported = apigw.get_method(restApiId=api_id, resourceId=resource["id"], httpMethod=method)
            # The integration's role: AWS calls SQS and Step Functions with it.
            credentials = operation["x-amazon-apigateway-integration"].get("credentials")
            if credentials and imported["methodIntegration"].get("credentials") != credentials:
                gaps.add("integration credentials")
                apigw.update_integration(
                    restApiId=api_id,
                    resourceId=resource["id"],
                    httpMethod=method,
                    patchOperations=[{"op": "replace", "path": "/credentials", "value": credentials}],
                )
            # A security scheme of type awsSigv4 makes the method AWS_IAM.
            for requirement in operation.get("security", []):
                for name in requirement:
                    if (
                        schemes.get(name, {}).get("x-amazon-apigateway-authtype") == "awsSigv4"
                        and imported["authorizationType"] != "AWS_IAM"
                    ):
                        gaps.add("AWS_IAM authorization from an awsSigv4 security scheme")
                        apigw.update_method(
                            restApiId=api_id,
                            resourceId=resource["id"],
                            httpMethod=method,
                            patchOperations=[{"op": "replace", "path": "/authorizationType", "value": "AWS_IAM"}],
                        )
    # The API's own gateway responses.
    for response_type, spec in definition.get("x-amazon-apigateway-gateway-responses", {}).items():
        current = apigw.get_gateway_response(restApiId=api_id, responseType=response_type)
        wanted_templates = spec.get("responseTemplates", {})
        if current.get("responseTemplates") != wanted_templates or str(current.get("statusCode")) != str(
            spec.get("statusCode")
        ):
            gaps.add("x-amazon-apigateway-gateway-responses")
            arguments = {"restApiId": api_id, "responseType": response_type, "responseTemplates": wanted_templates}
            if "statusCode" in spec:
                arguments["statusCode"] = str(spec["statusCode"])
            if "responseParameters" in spec:
                arguments["responseParameters"] = spec["responseParameters"]
            apigw.put_gateway_response(**arguments)
    return gaps
