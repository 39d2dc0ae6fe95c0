"""Checks what the docs promise of the deployed stack, on the templates CloudFormation would run.

Reads every target/sam/<variant>.json that deploy/transform.py wrote (the SAM transform's output,
with the parameter values it was translated with), resolves the conditions for those values, and
checks the resources that would be created:

- authentication: API_KEY puts the API key on every method and creates the key and usage plan;
  IAM (the default) puts SigV4 on every method and no API key anywhere, and gives each route a
  client policy of its own; every request is logged with its caller, source IP, route, status and
  latency, to a log group with a retention;
- the S3 gateway endpoint lets the database subnets reach the reports bucket only;
- the API never reports a failure as success: each integration answers 2XX only for the service's
  2XX, and anything unmatched is a 5XX; no request body reaches the state machine's input;
- permissions: no managed policy, no `*` action, and `"Resource": "*"` only for the calls AWS does
  not let be scoped;
- each topic policy covers one topic and names only it;
- the report link cannot outlive the signing session; /create_report has its own throttle; the
  reader's concurrency is reserved when asked; a retained resource has no fixed name; a queue
  parks a message only after 5 receives or more;
- operations: every queue that parks messages has an alarm, every function an Errors and a
  Throttles alarm; every alarm notifies the ops topic on ALARM and OK and is named after the stack
  (the topic's policy admits only those); the ops topic is encrypted with a key of the stack's
  that CloudWatch may use (not alias/aws/sns) by the SNS guide's statement, scoped to the stack's
  alarms and that topic; its policy lets CloudWatch publish and its Deny spares it; the
  dashboard's body is JSON, shows every alarm and names only the metrics the functions emit;
- one time budget for the report: report-mailer waits at least as long as the RenderReport task
  may take with all its retries (statemachine/report.asl.json), and neither its Timeout nor its
  task's TimeoutSeconds stops it first;
- gradual rollouts: every function is called (by its event source, by the state machine) through
  its alias, which a CodeDeploy deployment group moves to each new version and moves back when
  the deployment fails or the errors alarm of that new version goes off; that alarm goes off on
  one error, in a period no longer than a DeploymentType's traffic step, and not on a version
  with no calls yet; no role allows by NotAction or NotResource;
- the report schedule: created only when ReportSchedule is set (its condition), at the time set in
  CafeTimeZone; it starts this state machine with exactly the input POST /create_report sends,
  under a role that EventBridge Scheduler of this account alone (StringEquals aws:SourceAccount)
  may assume and that may only
  start this state machine and park a failed start on the schedule's dead-letter queue.

    python deploy/check.py [target/sam]
"""

import fnmatch
import json
import math
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
RUNBOOK = ROOT / "docs" / "operations.md"


def runbook_has(alarm):
    """Whether the runbook's table has a row for `alarm`: its own, or the one for every function's
    alarm of that kind (`<Function>Errors`)."""
    text = RUNBOOK.read_text()
    kinds = ("NewVersionErrors", "Errors", "Throttles")
    generic = next((f"<Function>{kind}" for kind in kinds if alarm.endswith(kind)), None)
    return f"| `{alarm}` |" in text or (generic is not None and f"| `{generic}` |" in text)


# The definition DefinitionUri names (packaged to S3 in the translated templates).
STATE_MACHINE = ROOT / "statemachine" / "report.asl.json"

# Calls without resource-level permissions: the VPC network interfaces Lambda manages, X-Ray's
# writes and sampling, and vended log delivery.
UNSCOPABLE = {
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
    "cloudwatch:DescribeAlarms",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
}

# A presigned URL dies with the credentials that signed it; Lambda does not promise its role
# session longer than this (see docs/deploying.md).
MAX_LINK_EXPIRY_SECONDS = 3600

# Receives before SQS parks a message that a Lambda event source reads (Lambda's guide asks for 5
# or more: throttled batches count too).
MIN_RECEIVES_BEFORE_PARKING = 5

# What each API access log line must carry: the request, who called (IAM principal or API key),
# from where, the route, the answer and its latency.
ACCESS_LOG_FIELDS = {
    "$context.requestId",
    "$context.identity.userArn",
    "$context.identity.apiKeyId",
    "$context.identity.sourceIp",
    "$context.httpMethod",
    "$context.resourcePath",
    "$context.status",
    "$context.responseLatency",
}

# Properties that fix a resource's physical name.
NAME_PROPERTIES = {"TableName", "QueueName", "BucketName"}

# The topic every alarm notifies. CloudWatch alarms cannot publish to a topic encrypted with the
# AWS managed key, whose policy cannot grant CloudWatch its use.
OPS_TOPIC = "OpsTopic"
AWS_MANAGED_SNS_KEY = "alias/aws/sns"
CLOUDWATCH = "cloudwatch.amazonaws.com"
# The key policy statement the SNS Developer Guide gives for AWS services that publish to an
# encrypted topic ("Enable compatibility between event sources from AWS services and encrypted
# topics", sns-key-management.html#compatibility-with-aws-services): these actions, and only these
# condition keys (operator, key). A key the service's request does not carry would make every
# notification fail, silently.
CLOUDWATCH_KEY_ACTIONS = {"kms:Decrypt", "kms:GenerateDataKey*"}
CLOUDWATCH_KEY_CONDITIONS = {("ArnLike", "aws:sourcearn"), ("StringEquals", "kms:encryptioncontext:aws:sns:topicarn")}
# This stack's alarms, as the ops topic's policy and the key's statement name them.
STACK_ALARMS = "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:${AWS::StackName}-*"

METRICS_SOURCE = pathlib.Path(__file__).resolve().parent.parent / "shared/src/metrics.rs"


def emitted_metrics(source=METRICS_SOURCE):
    """The functions' namespace and the metrics they emit in it, read from where the functions take
    them: `NAMESPACE` and the `ALL` list of shared/src/metrics.rs (each entry a constant of it)."""
    text = source.read_text(encoding="utf-8")
    constants = dict(re.findall(r'pub const (\w+): &str = "([^"]+)";', text))
    listed = re.search(r"pub const ALL: \[\(&str, Unit\); \d+\] = \[(.*?)\];", text, re.S)
    if "NAMESPACE" not in constants or not listed:
        raise SystemExit(f"check.py: {source} no longer has NAMESPACE and ALL as check.py reads them")
    return constants["NAMESPACE"], {constants[name] for name in re.findall(r"\((\w+), Unit::", listed.group(1))}


CAFE_NAMESPACE, CAFE_METRICS = emitted_metrics()


class Variant:
    """One translated template, with its conditions evaluated for its parameter values."""

    def __init__(self, name, template):
        self.name = name
        self.template = template
        self.values = self.template["Metadata"]["CafeTranslatedWith"]
        self.conditions = {}
        for name in self.template.get("Conditions", {}):
            self.condition(name)

    def condition(self, name):
        if name not in self.conditions:
            self.conditions[name] = self.evaluate(self.template["Conditions"][name])
        return self.conditions[name]

    def evaluate(self, node):
        """A condition's truth, or an expression's value, for this variant's parameters."""
        if isinstance(node, dict) and len(node) == 1:
            ((key, arg),) = node.items()
            if key == "Ref":
                return self.values.get(arg, arg)
            if key == "Condition":
                return self.condition(arg)
            if key == "Fn::Equals":
                return str(self.evaluate(arg[0])) == str(self.evaluate(arg[1]))
            if key == "Fn::Not":
                return not self.evaluate(arg[0])
            if key == "Fn::And":
                return all(self.evaluate(a) for a in arg)
            if key == "Fn::Or":
                return any(self.evaluate(a) for a in arg)
        return node

    def resolve_ifs(self, node):
        """The node with every Fn::If chosen and AWS::NoValue dropped."""
        if isinstance(node, dict):
            if set(node) == {"Fn::If"}:
                name, yes, no = node["Fn::If"]
                return self.resolve_ifs(yes if self.condition(name) else no)
            resolved = {k: self.resolve_ifs(v) for k, v in node.items()}
            return {k: v for k, v in resolved.items() if v != {"Ref": "AWS::NoValue"}}
        if isinstance(node, list):
            return [self.resolve_ifs(v) for v in node if v != {"Ref": "AWS::NoValue"}]
        return node

    def resources(self, type_=None):
        """The resources this variant creates (its conditions hold), Fn::If resolved."""
        for name, resource in self.template["Resources"].items():
            if "Condition" in resource and not self.condition(resource["Condition"]):
                continue
            if type_ is None or resource["Type"] == type_:
                yield name, self.resolve_ifs(resource)


def as_list(value):
    return value if isinstance(value, list) else [value]


def check_auth(variant, problems):
    mode = variant.values["ApiAuth"]
    want = {"API_KEY": "api_key", "IAM": "sigv4"}[mode]
    for _, api in variant.resources("AWS::ApiGateway::RestApi"):
        for path, methods in api["Properties"]["Body"]["paths"].items():
            for verb, method in methods.items():
                schemes = [name for requirement in method.get("security", []) for name in requirement]
                if schemes != [want]:
                    problems.append(f"{verb.upper()} {path}: security {schemes}, not [{want!r}] in {mode} mode")
    kinds = {resource["Type"] for _, resource in variant.resources()}
    key_parts = {"AWS::ApiGateway::ApiKey", "AWS::ApiGateway::UsagePlan", "AWS::ApiGateway::UsagePlanKey"}
    if mode == "API_KEY" and not key_parts <= kinds:
        problems.append(f"API_KEY mode without {sorted(key_parts - kinds)}")
    if mode == "IAM" and key_parts & kinds:
        problems.append(f"IAM mode creates {sorted(key_parts & kinds)}")


def check_callers(variant, problems):
    """Each API request is logged with who called, and in IAM mode each route has a policy of its
    own for the callers it admits."""
    resources = dict(variant.resources())
    for name, stage in variant.resources("AWS::ApiGateway::Stage"):
        setting = stage["Properties"].get("AccessLogSetting")
        if not setting:
            problems.append(f"{name}: no access logs (who called is recorded nowhere)")
            continue
        fields = set(re.findall(r"\$context\.[\w.]+", str(setting.get("Format", ""))))
        missing = sorted(ACCESS_LOG_FIELDS - fields)
        if missing:
            problems.append(f"{name}: the access log format leaves out {missing}")
        group = resources.get(referenced(setting.get("DestinationArn")))
        if group is None or group["Type"] != "AWS::Logs::LogGroup":
            problems.append(f"{name}: access logs go to {setting.get('DestinationArn')}, not a log group of the stack")
        elif "RetentionInDays" not in group["Properties"]:
            problems.append(f"{referenced(setting['DestinationArn'])}: access logs kept forever (no RetentionInDays)")

    if variant.values["ApiAuth"] != "IAM":
        return
    # "POST/orders", as an execute-api ARN ends: …:{api}/{stage}/POST/orders.
    routes = {
        f"{verb.upper()}{path}"
        for _, api in variant.resources("AWS::ApiGateway::RestApi")
        for path, methods in api["Properties"]["Body"]["paths"].items()
        for verb in methods
    }
    admitted = set()
    for name, policy in variant.resources("AWS::IAM::ManagedPolicy"):
        arns = [
            str(substituted(resource))
            for statement in statements(policy["Properties"]["PolicyDocument"])
            if "execute-api:Invoke" in as_list(statement.get("Action"))
            for resource in as_list(statement.get("Resource"))
        ]
        named = {arn.split(":")[-1].split("/", 2)[-1] for arn in arns}
        if len(named) > 1 or any("*" in route for route in named):
            problems.append(f"{name}: one client policy admits {sorted(named)}, not one route")
        admitted |= named
    for route in sorted(routes - admitted):
        problems.append(f"{route}: no client policy admits callers to it in IAM mode")


def check_s3_endpoints(variant, problems):
    """What the database subnets may do in S3 through the gateway endpoint: the reports bucket only."""
    for name, endpoint in variant.resources("AWS::EC2::VPCEndpoint"):
        if endpoint["Properties"].get("VpcEndpointType") != "Gateway":
            continue
        document = endpoint["Properties"].get("PolicyDocument")
        if not document:
            problems.append(f"{name}: no policy: the database subnets may reach every bucket")
            continue
        for statement in statements(document):
            for resource in as_list(statement.get("Resource")):
                text = str(substituted(resource) or resource)
                if not text.startswith("${ReportsBucket.Arn}"):
                    problems.append(
                        f"{name}: statement {statement.get('Sid')} reaches {resource}, beyond the reports bucket"
                    )


ORDER_SOURCE = pathlib.Path(__file__).resolve().parent.parent / "shared/src/order.rs"


def idempotency_key(source=ORDER_SOURCE):
    """The header the API reads an order's or report's key from, as the functions name it."""
    found = re.search(r'pub const IDEMPOTENCY_KEY: &str = "([^"]+)";', source.read_text(encoding="utf-8"))
    if not found:
        raise SystemExit(f"check.py: {source} no longer has IDEMPOTENCY_KEY as check.py reads it")
    return found.group(1)


IDEMPOTENCY_KEY = idempotency_key()


def check_order_validation(api, where, method, problems):
    """POST /orders: the body is checked against the Order model before anything reaches SQS."""
    schema = method.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
    if schema.get("$ref") != "#/components/schemas/Order":
        problems.append(f"{where}: the application/json body is not bound to the Order model")
    if method.get("requestBody", {}).get("required") is not True:
        problems.append(f"{where}: the request body is not required")
    validators = api["Properties"]["Body"].get("x-amazon-apigateway-request-validators", {})
    validator = validators.get(method.get("x-amazon-apigateway-request-validator"), {})
    if validator.get("validateRequestBody") is not True:
        problems.append(f"{where}: no request validator checks the body against its model")


def check_integrations(variant, problems):
    for _, api in variant.resources("AWS::ApiGateway::RestApi"):
        for path, methods in api["Properties"]["Body"]["paths"].items():
            for verb, method in methods.items():
                where = f"{verb.upper()} {path}"
                integration = method["x-amazon-apigateway-integration"]
                # Without `never`, a content type with no template passes through untransformed.
                if integration.get("type") == "aws" and integration.get("passthroughBehavior") != "never":
                    problems.append(
                        f"{where}: passthroughBehavior {integration.get('passthroughBehavior')!r}, not 'never': "
                        "a body of another content type reaches the service as it is"
                    )
                if path == "/orders":
                    check_order_validation(api, where, method, problems)
                if f"$input.params('{IDEMPOTENCY_KEY}')" not in json.dumps(integration.get("requestTemplates", {})):
                    problems.append(f"{where}: the request template does not read the {IDEMPOTENCY_KEY} header")
                responses = integration.get("responses", {})
                for pattern, response in responses.items():
                    status = str(response["statusCode"])
                    if status.startswith("2") and pattern != "2\\d{2}":
                        problems.append(f"{where}: {pattern!r} (not only the service's 2XX) answers {status}")
                    # SQS and Step Functions answer 400 for their own troubles too (a missing
                    # queue, throttling): a 4XX template must send those on as 5XX.
                    templates = json.dumps(response.get("responseTemplates", {}))
                    if status.startswith("4") and not re.search(r"responseOverride\.status = 5\d\d", templates):
                        problems.append(
                            f"{where}: every service {pattern} answers {status}: an outage reads as the client's fault"
                        )
                default = str(responses.get("default", {}).get("statusCode", ""))
                if not default.startswith("5"):
                    problems.append(f"{where}: an unmatched service response answers {default or 'nothing'}, not a 5XX")
                # One content type reaches the integration, and the model (where there is one) is
                # bound to that same type: a template without its model is a way past validation.
                templates = integration.get("requestTemplates", {})
                if set(templates) != {"application/json"}:
                    problems.append(f"{where}: request templates for {sorted(templates)}, not application/json alone")
                models = set(method.get("requestBody", {}).get("content", {}))
                if models and models != set(templates):
                    problems.append(f"{where}: models for {sorted(models)} but templates for {sorted(templates)}")
                for template in templates.values():
                    text = json.dumps(template)
                    if path == "/create_report" and ("$input.body" in text or "$input.json" in text):
                        problems.append(f"{where}: the request body reaches the execution's input")


def statements(policy_document):
    return as_list(policy_document.get("Statement", []))


def check_permissions(variant, problems):
    for name, role in variant.resources("AWS::IAM::Role"):
        properties = role["Properties"]
        if properties.get("ManagedPolicyArns"):
            problems.append(f"{name}: managed policies {properties['ManagedPolicyArns']}")
        documents = [p["PolicyDocument"] for p in properties.get("Policies", [])]
        for statement in (s for d in documents for s in statements(d)):
            negated = sorted({"NotAction", "NotResource"} & set(statement))
            if negated and statement.get("Effect") == "Allow":
                problems.append(f"{name}: an Allow with {' and '.join(negated)} grants all it does not name")
            actions = as_list(statement.get("Action", []))
            resources = as_list(statement.get("Resource", []))
            for action in actions:
                if action == "*" or action.endswith(":*"):
                    problems.append(f"{name}: action {action}")
            if "*" in resources:
                wide = sorted(set(actions) - UNSCOPABLE)
                if wide:
                    problems.append(f"{name}: {wide} on every resource")
    for name, _ in variant.resources("AWS::IAM::Policy"):
        problems.append(f"{name}: a separate IAM policy (check it is scoped, then allow it here)")


def check_topic_policies(variant, problems):
    for name, policy in variant.resources("AWS::SNS::TopicPolicy"):
        topics = policy["Properties"]["Topics"]
        if len(topics) != 1:
            problems.append(f"{name}: one policy for {len(topics)} topics")
            continue
        for statement in statements(policy["Properties"]["PolicyDocument"]):
            if as_list(statement.get("Resource")) != topics:
                problems.append(f"{name}: statement {statement.get('Sid')} names {statement.get('Resource')}")
            everyone = statement.get("Principal") == "*" or statement.get("Principal", {}).get("AWS") == "*"
            if everyone and statement["Effect"] == "Allow":
                problems.append(f"{name}: statement {statement.get('Sid')} is open to everyone")
        denies = [s for s in statements(policy["Properties"]["PolicyDocument"]) if s["Effect"] == "Deny"]
        if not any(s.get("Action") == "sns:Publish" for s in denies):
            problems.append(f"{name}: no Deny keeps other roles of the account from publishing")


def check_limits(variant, problems):
    expiry = variant.template["Parameters"]["ReportLinkExpirySeconds"]
    if int(expiry.get("MaxValue", 10**9)) > MAX_LINK_EXPIRY_SECONDS:
        problems.append(
            f"ReportLinkExpirySeconds allows {expiry.get('MaxValue')} s; links die after {MAX_LINK_EXPIRY_SECONDS}"
        )

    for name, deployment in variant.resources("AWS::ApiGateway::Deployment"):
        if "StageName" in deployment["Properties"]:
            stage = deployment["Properties"]["StageName"]
            problems.append(f"{name}: a second stage {stage!r}, without the throttles (set OpenApiVersion)")
    stages = [s for _, s in variant.resources("AWS::ApiGateway::Stage")]
    report_throttled = any(
        setting.get("ResourcePath") == "/~1create_report"
        for stage in stages
        for setting in stage["Properties"].get("MethodSettings", [])
    )
    if not report_throttled:
        problems.append("POST /create_report has no throttle of its own")
    for name, plan in variant.resources("AWS::ApiGateway::UsagePlan"):
        if not any("/create_report/POST" in s.get("Throttle", {}) for s in plan["Properties"]["ApiStages"]):
            problems.append(f"{name}: POST /create_report has no throttle of its own")

    for name, function in variant.resources("AWS::Lambda::Function"):
        if "inventory-reader" in json.dumps(function["Properties"].get("FunctionName", "")):
            reserved = function["Properties"].get("ReservedConcurrentExecutions")
            wanted = variant.values["ReaderReservedConcurrency"]
            expected = None if wanted == "0" else {"Ref": "ReaderReservedConcurrency"}
            if reserved != expected:
                problems.append(f"{name}: reserved concurrency {reserved}, asked for {wanted}")

    # Lambda's guide: at least 5, as every receive counts, throttled batches' too.
    for name, queue in variant.resources("AWS::SQS::Queue"):
        receives = queue["Properties"].get("RedrivePolicy", {}).get("maxReceiveCount")
        if receives is not None and int(receives) < MIN_RECEIVES_BEFORE_PARKING:
            problems.append(
                f"{name}: maxReceiveCount {receives} parks valid orders when Lambda is throttled "
                f"(at least {MIN_RECEIVES_BEFORE_PARKING})"
            )

    for name, resource in variant.resources():
        if resource.get("DeletionPolicy") == "Retain" or resource["Type"] == "AWS::SQS::Queue":
            fixed = NAME_PROPERTIES & set(resource.get("Properties", {}))
            if fixed:
                problems.append(f"{name}: fixed {sorted(fixed)} would block the next deploy after `make destroy`")


def referenced(value):
    """The logical id a Ref or a Fn::GetAtt (either form) names, else None."""
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return value["Ref"]
    if isinstance(value, dict) and set(value) == {"Fn::GetAtt"}:
        target = value["Fn::GetAtt"]
        return (target.split(".", 1) if isinstance(target, str) else target)[0]
    return None


def parking_queues(variant):
    """Queues where messages wait for a person: dead-letter queues (of queues and of schedules),
    event sources' on-failure queues."""
    queues = {name for name, _ in variant.resources("AWS::SQS::Queue")}
    parked = set()
    for _, queue in variant.resources("AWS::SQS::Queue"):
        parked.add(referenced(queue["Properties"].get("RedrivePolicy", {}).get("deadLetterTargetArn")))
    for _, mapping in variant.resources("AWS::Lambda::EventSourceMapping"):
        on_failure = mapping["Properties"].get("DestinationConfig", {}).get("OnFailure", {})
        parked.add(referenced(on_failure.get("Destination")))
    for _, schedule in variant.resources("AWS::Scheduler::Schedule"):
        parked.add(referenced(schedule["Properties"].get("Target", {}).get("DeadLetterConfig", {}).get("Arn")))
    return parked & queues


def watched(alarm):
    """(namespace, metric, dimension, the resource it names) for each metric the alarm watches."""
    properties = alarm["Properties"]
    metrics = (
        [properties]
        if "MetricName" in properties
        else [m["MetricStat"]["Metric"] for m in properties.get("Metrics", []) if "MetricStat" in m]
    )
    for metric in metrics:
        for dimension in metric.get("Dimensions", []):
            yield metric["Namespace"], metric["MetricName"], dimension["Name"], referenced(dimension["Value"])


def dimension_names(alarm):
    """The names of the dimensions of the alarm's metric (of all its metrics, for metric math)."""
    return {dimension for _, _, dimension, _ in watched(alarm)}


def fires_on_one(alarm):
    """The alarm goes off on the first message, error or throttle (a count above 0)."""
    properties = alarm["Properties"]
    threshold = properties.get("Threshold")
    if not isinstance(threshold, (int, float, str)):
        return False  # a parameter: not a fixed "any at all"
    operator = properties.get("ComparisonOperator")
    return (operator, float(threshold)) in {("GreaterThanThreshold", 0.0), ("GreaterThanOrEqualToThreshold", 1.0)}


def check_alarms(variant, problems):
    alarms = dict(variant.resources("AWS::CloudWatch::Alarm"))
    ops_topic = {"Ref": OPS_TOPIC}

    def alarm_on(namespace, metric, dimension, resource):
        """Alarms on the metric of the whole resource (that dimension alone: not one version's)."""
        return [
            name
            for name, alarm in alarms.items()
            if (namespace, metric, dimension, resource) in set(watched(alarm))
            and dimension_names(alarm) == {dimension}
            and fires_on_one(alarm)
        ]

    for queue in sorted(parking_queues(variant)):
        if not alarm_on("AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", queue):
            problems.append(f"{queue}: parks messages, and no alarm goes off when one is there")
    for function, _ in variant.resources("AWS::Lambda::Function"):
        for metric in ("Errors", "Throttles"):
            if not alarm_on("AWS/Lambda", metric, "FunctionName", function):
                problems.append(f"{function}: no {metric} alarm")

    for name, alarm in alarms.items():
        properties = alarm["Properties"]
        for actions in ("AlarmActions", "OKActions"):
            if properties.get(actions) != [ops_topic]:
                problems.append(f"{name}: {actions} {properties.get(actions)}, not [{OPS_TOPIC}] alone")
        if properties.get("ActionsEnabled") is False:
            problems.append(f"{name}: actions disabled")
        # The ops topic's policy admits alarms named after the stack only.
        alarm_name = properties.get("AlarmName", {})
        named = isinstance(alarm_name, dict) and str(alarm_name.get("Fn::Sub", "")).startswith("${AWS::StackName}-")
        if not named:
            problems.append(
                f"{name}: AlarmName {alarm_name} does not start with the stack's name: the ops topic refuses it"
            )
        description = re.sub(r"\s+", " ", str(properties.get("AlarmDescription", "")))
        entry = re.search(r'Runbook: docs/operations\.md, section "Runbook", (\w+)', description)
        if not entry:
            problems.append(f"{name}: its description does not point to the runbook in docs/operations.md")
        elif not runbook_has(entry.group(1)):
            problems.append(f"{name}: the runbook has no entry {entry.group(1)}")
        if "TreatMissingData" not in properties:
            problems.append(f"{name}: no TreatMissingData (an idle metric would leave it INSUFFICIENT_DATA)")


def service_principals(statement):
    principal = statement.get("Principal")
    return as_list(principal.get("Service", [])) if isinstance(principal, dict) else []


THIS_ACCOUNT = ({"Ref": "AWS::AccountId"}, {"Fn::Sub": "${AWS::AccountId}"})


def this_account_only(statement):
    """Whether a service principal's statement holds only for this stack's account: aws:SourceAccount
    equal (StringEquals, not a pattern, not IfExists) to AWS::AccountId, alone or as a list of one."""
    equals = statement.get("Condition", {}).get("StringEquals", {})
    accounts = [value for key, value in equals.items() if key.lower() == "aws:sourceaccount"]
    return len(accounts) == 1 and len(as_list(accounts[0])) == 1 and as_list(accounts[0])[0] in THIS_ACCOUNT


def allows_action(statement, action):
    """Whether the statement's Action names `action`, as IAM matches it: case aside, wildcards too."""
    return any(fnmatch.fnmatchcase(action.lower(), named.lower()) for named in as_list(statement.get("Action", [])))


def check_ops_topic(variant, problems):
    resources = dict(variant.resources())
    topic = resources.get(OPS_TOPIC)
    if topic is None or topic["Type"] != "AWS::SNS::Topic":
        problems.append(f"no {OPS_TOPIC} topic for the alarms")
        return
    key_id = topic["Properties"].get("KmsMasterKeyId")
    key = resources.get(referenced(key_id))
    if key_id is None:
        problems.append(f"{OPS_TOPIC}: not encrypted")
    elif key is None or key["Type"] != "AWS::KMS::Key":
        managed = AWS_MANAGED_SNS_KEY in json.dumps(key_id)
        why = " (the AWS managed key: CloudWatch alarms cannot use it)" if managed else ""
        problems.append(f"{OPS_TOPIC}: encrypted with {key_id}, not a key of this stack that CloudWatch may use{why}")
    else:
        if key["Properties"].get("EnableKeyRotation") is not True:
            problems.append(f"{referenced(key_id)}: key rotation off")
        check_ops_key(referenced(key_id), key, topic, problems)

    document = [
        statement
        for _, policy in variant.resources("AWS::SNS::TopicPolicy")
        if {"Ref": OPS_TOPIC} in policy["Properties"]["Topics"]
        for statement in statements(policy["Properties"]["PolicyDocument"])
    ]
    publishes = [s for s in document if allows_action(s, "sns:Publish")]
    allowed = [s for s in publishes if s["Effect"] == "Allow" and CLOUDWATCH in service_principals(s)]
    if not allowed:
        problems.append(f"{OPS_TOPIC}: no topic policy lets CloudWatch publish to it")
    for statement in allowed:
        if not this_account_only(statement):
            problems.append(
                f"{OPS_TOPIC}: CloudWatch may publish for any account's alarms "
                "(no aws:SourceAccount equal to AWS::AccountId)"
            )
    # A Deny for everyone else must spare AWS service principals, or it refuses CloudWatch too.
    spares_services = {(op, "aws:principalisawsservice", "false") for op in ("Bool", "BoolIfExists")}
    for statement in (s for s in publishes if s["Effect"] == "Deny"):
        conditions = {
            (operator, key.lower(), str(value).lower())
            for operator, condition in statement.get("Condition", {}).items()
            for key, value in condition.items()
        }
        if not conditions & spares_services:
            problems.append(f"{OPS_TOPIC}: statement {statement.get('Sid')} denies CloudWatch's publishing too")


def substituted(value):
    """The template string of a Fn::Sub (or a plain string), else None."""
    if isinstance(value, dict) and set(value) == {"Fn::Sub"}:
        value = value["Fn::Sub"]
    return value if isinstance(value, str) else None


def check_ops_key(name, key, topic, problems):
    """CloudWatch's statement in the ops topic's key policy is the documented one, scoped to this
    stack's alarms and its ops topic."""
    granted = [
        s
        for s in statements(key["Properties"].get("KeyPolicy", {}))
        if s.get("Effect") == "Allow" and CLOUDWATCH in service_principals(s)
    ]
    if len(granted) != 1:
        problems.append(f"{name}: {len(granted)} statements for CloudWatch, not the one the SNS guide documents")
        return
    statement = granted[0]
    actions = set(as_list(statement.get("Action", [])))
    if actions != CLOUDWATCH_KEY_ACTIONS:
        problems.append(f"{name}: CloudWatch is granted {sorted(actions)}, not {sorted(CLOUDWATCH_KEY_ACTIONS)}")
    conditions = {
        (operator, key.lower()): value
        for operator, condition in statement.get("Condition", {}).items()
        for key, value in condition.items()
    }
    unknown = sorted(f"{op} {key}" for op, key in set(conditions) - CLOUDWATCH_KEY_CONDITIONS)
    if unknown:
        problems.append(
            f"{name}: CloudWatch's statement has condition keys the SNS guide does not document "
            f"for it ({', '.join(unknown)}): its requests may not carry them"
        )
    if substituted(conditions.get(("ArnLike", "aws:sourcearn"))) != STACK_ALARMS:
        problems.append(f"{name}: CloudWatch may use the key for alarms other than this stack's (aws:SourceArn)")
    topic_name = substituted(topic["Properties"].get("TopicName"))
    own_topic = "arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:" + str(topic_name)
    topic_arn = substituted(conditions.get(("StringEquals", "kms:encryptioncontext:aws:sns:topicarn")))
    if topic_name is None or topic_arn != own_topic:
        problems.append(
            f"{name}: CloudWatch may use the key for topics other than {OPS_TOPIC} "
            f"(kms:EncryptionContext:aws:sns:topicArn {topic_arn}, not {own_topic})"
        )


def task_states(states):
    """Every Task state of a state machine's `States`, Parallel branches included: name → state."""
    found = {}
    for name, state in states.items():
        if state.get("Type") == "Task":
            found[name] = state
        for branch in state.get("Branches", []):
            found.update(task_states(branch["States"]))
    return found


def task_worst_case_seconds(task, function_timeout):
    """The longest a Task may take: every attempt its retriers allow (each retrier counts its own),
    each up to its timeout or its function's, whichever is shorter, with the longest backoff
    between them (FULL jitter only shortens it)."""
    per_attempt = min(task.get("TimeoutSeconds", function_timeout), function_timeout)
    retriers = task.get("Retry", [])
    attempts = 1 + sum(r.get("MaxAttempts", 3) for r in retriers)
    backoff = sum(
        min(r.get("IntervalSeconds", 1) * r.get("BackoffRate", 2.0) ** k, r.get("MaxDelaySeconds", math.inf))
        for r in retriers
        for k in range(r.get("MaxAttempts", 3))
    )
    return attempts * per_attempt + backoff


def function_behind(variant, logical):
    """The function an alias points to, or `logical` itself."""
    alias = dict(variant.resources("AWS::Lambda::Alias")).get(logical)
    return referenced(alias["Properties"]["FunctionName"]) if alias else logical


def rolls_back_on_new_version(alarm, function, alias):
    """The alarm counts the errors of the version `alias` moves to, invoked through `alias`, alone."""
    version = referenced(alias["Properties"].get("FunctionVersion"))
    properties = alarm["Properties"]
    dimensions = {d["Name"]: d["Value"] for d in properties.get("Dimensions", [])}
    return (
        (properties.get("Namespace"), properties.get("MetricName")) == ("AWS/Lambda", "Errors")
        and fires_on_one(alarm)
        and referenced(dimensions.get("FunctionName")) == function
        and dimensions.get("Resource") in ({"Fn::Sub": f"${{{function}}}:{alias['Properties']['Name']}"},)
        and version is not None
        and dimensions.get("ExecutedVersion") == {"Fn::GetAtt": [version, "Version"]}
    )


def shortest_step(variant):
    """The seconds of the shortest traffic step a DeploymentType allows (Linear10PercentEvery1Minute:
    60), or None when every allowed type moves all traffic at once."""
    allowed = variant.template.get("Parameters", {}).get("DeploymentType", {}).get("AllowedValues", [])
    minutes = [int(m) for value in allowed for m in re.findall(r"(\d+)Minutes?$", value)]
    return 60 * min(minutes) if minutes else None


def rollback_timing_faults(alarm, step):
    """Why a new version's errors alarm would roll back too late, or for nothing. CodeDeploy stops a
    rollout only while it runs, and a DeploymentType moves more traffic every `step` seconds: the
    alarm must go off on one error (Sum, Maximum or Average above 0, in one period no longer than a
    step), and stay quiet while the new version has no calls yet."""
    properties = alarm["Properties"]
    faults = []
    statistic = properties.get("Statistic") or properties.get("ExtendedStatistic")
    if statistic not in ("Sum", "Maximum", "Average"):
        faults.append(f"the {statistic} of Errors: not Sum, Maximum or Average, which are above 0 on the first error")
    period = properties.get("Period")
    needed = properties.get("DatapointsToAlarm") or properties.get("EvaluationPeriods", 1)
    if not all(isinstance(value, (int, str)) and str(value).isdigit() for value in (period, needed)):
        faults.append(f"Period {period} and datapoints {needed}: not fixed numbers, so no one can say when it goes off")
    else:
        if int(needed) != 1:
            faults.append(f"needs {needed} periods with errors: one error must be enough to roll back")
        if step is not None and int(period) > step:
            faults.append(
                f"counts errors over {period} s; a DeploymentType moves more traffic every {step} s, "
                "so more would move (or the rollout end) before it went off"
            )
    if properties.get("TreatMissingData") == "breaching":
        faults.append(
            "TreatMissingData breaching: a new version not called yet has no data, and that would roll it back"
        )
    return faults


def named_in(value, qualified=False):
    """The logical ids a value names: by Ref or Fn::GetAtt, or inside a Fn::Sub string (its
    variables' values too), not a pseudo parameter (`${AWS::Region}`). In a Fn::Sub string a
    qualified name (`${Fn.Arn}:live`, an alias) counts only when `qualified`."""
    if isinstance(value, dict) and set(value) == {"Fn::Sub"}:
        text, variables = (value["Fn::Sub"], {}) if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"]
        pattern = r"\$\{([^}!]+)\}" if qualified else r"\$\{([^}!]+)\}(?!:)"
        names = {m.split(".")[0] for m in re.findall(pattern, text) if "::" not in m}
        return (names - set(variables)) | {n for v in variables.values() for n in named_in(v, qualified)}
    return {referenced(value)} - {None}


def check_rollouts(variant, problems):
    """Every function is called through its alias `live`, which CodeDeploy moves to each new
    version and moves back when that version's errors set off an alarm (or the deployment fails).
    No alarm on the function as a whole stops a rollout: in ALARM while the old version fails, it
    would stop the deploy of the fix."""
    functions = dict(variant.resources("AWS::Lambda::Function"))
    alarms = dict(variant.resources("AWS::CloudWatch::Alarm"))
    groups = dict(variant.resources("AWS::CodeDeploy::DeploymentGroup"))
    aliases = {
        referenced(alias["Properties"]["FunctionName"]): (name, alias)
        for name, alias in variant.resources("AWS::Lambda::Alias")
    }
    for function in functions:
        if function not in aliases:
            problems.append(f"{function}: no alias: a new version takes every call at once, with no way back")
            continue
        alias_name, alias = aliases[function]
        update = alias.get("UpdatePolicy", {}).get("CodeDeployLambdaAliasUpdate", {})
        group_name = referenced(update.get("DeploymentGroupName"))
        if group_name not in groups:
            problems.append(f"{alias_name}: no CodeDeploy deployment group moves it: no gradual rollout")
            continue
        properties = groups[group_name]["Properties"]
        rollback = properties.get("AutoRollbackConfiguration", {})
        if not rollback.get("Enabled") or not {"DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"} <= set(
            rollback.get("Events", [])
        ):
            problems.append(f"{group_name}: does not roll back when the deployment fails or an alarm goes off")
        configuration = properties.get("AlarmConfiguration", {})
        stopping = (
            {referenced(a.get("Name")) for a in configuration.get("Alarms", [])}
            if configuration.get("Enabled")
            else set()
        )
        if not any(rolls_back_on_new_version(alarms[a], function, alias) for a in stopping if a in alarms):
            problems.append(
                f"{group_name}: no alarm on the errors of {function}'s new version (FunctionName, Resource "
                "<function>:<alias>, ExecutedVersion of the alias's version) stops and rolls back its rollout"
            )
        for a in sorted(stopping & set(alarms)):
            if "ExecutedVersion" not in dimension_names(alarms[a]):
                problems.append(
                    f"{group_name}: {a} watches every version: in ALARM while the old one fails, it stops the "
                    "deploy of the fix"
                )
            else:
                problems += [f"{a}: {fault}" for fault in rollback_timing_faults(alarms[a], shortest_step(variant))]
    live = {name for name, _ in aliases.values()}
    for name, mapping in variant.resources("AWS::Lambda::EventSourceMapping"):
        if referenced(mapping["Properties"]["FunctionName"]) not in live:
            problems.append(f"{name}: invokes the function itself, not its alias: a rollout never reaches it")
    for name, machine in variant.resources("AWS::StepFunctions::StateMachine"):
        for key, value in machine["Properties"].get("DefinitionSubstitutions", {}).items():
            if named_in(value) & set(functions):
                problems.append(f"{name}: {key} names the function itself, not its alias: a rollout never reaches it")
        role = dict(variant.resources("AWS::IAM::Role")).get(referenced(machine["Properties"].get("RoleArn")))
        documents = [p["PolicyDocument"] for p in (role or {}).get("Properties", {}).get("Policies", [])]
        for statement in (s for d in documents for s in statements(d)):
            if "lambda:InvokeFunction" not in as_list(statement.get("Action", [])):
                continue
            for resource in as_list(statement.get("Resource", [])):
                if named_in(resource) & set(functions):
                    problems.append(
                        f"{name}: its role may invoke the function {sorted(named_in(resource) & set(functions))} "
                        "itself, not its alias (and invoking the alias needs the alias)"
                    )


def check_report_budget(variant, problems):
    """The mailer waits at least as long as the renderer may take, and is not stopped before."""
    definition = json.loads(STATE_MACHINE.read_text())
    tasks = task_states(definition["States"])
    functions = dict(variant.resources("AWS::Lambda::Function"))
    for _, machine in variant.resources("AWS::StepFunctions::StateMachine"):
        substitutions = machine["Properties"].get("DefinitionSubstitutions", {})

        def task_of(substitution, substitutions=substitutions):
            named = named_in(substitutions.get(substitution), qualified=True)
            logical = function_behind(variant, min(named, default=None))
            for name, task in tasks.items():
                if task.get("Parameters", {}).get("FunctionName") == "${" + substitution + "}":
                    return name, task, logical, functions[logical]["Properties"]
            raise KeyError(substitution)

        render, render_task, _, renderer = task_of("ReportRendererArn")
        mail, mail_task, mailer_name, mailer = task_of("ReportMailerArn")
        worst = task_worst_case_seconds(render_task, int(renderer.get("Timeout", 3)))
        wait = int(mailer.get("Environment", {}).get("Variables", {}).get("REPORT_WAIT_SECONDS", 0))
        if wait < worst:
            problems.append(
                f"{mailer_name}: waits {wait} s for the report, but {render} may take {worst:g} s "
                "with its retries: a report rendered on a retry would be reported as failed"
            )
        timeout = int(mailer.get("Timeout", 3))
        if timeout <= wait:
            problems.append(f"{mailer_name}: Timeout {timeout} s does not outlast its wait of {wait} s")
        if mail_task.get("TimeoutSeconds", math.inf) < timeout:
            problems.append(
                f"{mail}: TimeoutSeconds {mail_task['TimeoutSeconds']} stops the mailer before "
                f"its Timeout of {timeout} s"
            )


def check_dashboards(variant, problems):
    for name, dashboard in variant.resources("AWS::CloudWatch::Dashboard"):
        body = dashboard["Properties"]["DashboardBody"]
        text = body["Fn::Sub"] if isinstance(body, dict) else body
        if not isinstance(text, str):
            problems.append(f"{name}: DashboardBody is not a string or a Fn::Sub of one")
            continue
        try:
            parsed = json.loads(re.sub(r"\$\{[^}]+\}", "0", text))
        except ValueError as error:
            problems.append(f"{name}: DashboardBody is not JSON: {error}")
            continue
        for widget in parsed.get("widgets", []):
            for metric in widget.get("properties", {}).get("metrics", []):
                if metric and metric[0] == CAFE_NAMESPACE and metric[1] not in CAFE_METRICS:
                    problems.append(f"{name}: the functions emit no metric Cafe/{metric[1]}")
        shown = set(re.findall(r"\$\{(\w+)\.Arn\}", text))
        missing = {alarm for alarm, _ in variant.resources("AWS::CloudWatch::Alarm")} - shown
        if missing:
            problems.append(f"{name}: the alarms {sorted(missing)} are not on it")


SCHEDULER = "scheduler.amazonaws.com"

# The "input" field of a StartExecution request template: a JSON string literal.
INPUT_FIELD = re.compile(r'"input":\s*("(?:[^"\\]|\\.)*")')


def create_report_input(api_body):
    """The execution input POST /create_report sends, read from its request template in the API's
    OpenAPI body (`Body` translated, `DefinitionBody` in template.yaml): the template's "input",
    which must be written in it as it is (no VTL), so that what it sends is what it says."""
    integration = api_body["paths"]["/create_report"]["post"]["x-amazon-apigateway-integration"]
    template = integration["requestTemplates"]["application/json"]
    text = substituted(template)
    if text is None:
        raise ValueError(f"POST /create_report: the request template is {template!r}, not a string or a Fn::Sub of one")
    found = INPUT_FIELD.findall(text)
    if len(found) != 1:
        raise ValueError(f'POST /create_report: its request template has {len(found)} "input" fields, not one')
    if "$" in found[0] or "#" in found[0]:
        raise ValueError(f"POST /create_report: its execution input {found[0]} is computed (VTL), not written down")
    return json.loads(found[0])


def names_arn(value, logical, by_ref=False):
    """Whether `value` is the ARN of the resource `logical`: its Fn::GetAtt Arn, or its Ref where
    that is its ARN (`by_ref`: a state machine's, not a queue's, whose Ref is its URL)."""
    if by_ref and value == {"Ref": logical}:
        return True
    if isinstance(value, dict) and set(value) == {"Fn::GetAtt"}:
        target = value["Fn::GetAtt"]
        return list(target.split(".", 1) if isinstance(target, str) else target) == [logical, "Arn"]
    return False


def check_schedule(variant, problems):
    """The report schedule: there only when ReportSchedule is set, in the café's time zone, starting
    this state machine with what the API sends, under a role that can do that and nothing else."""
    schedules = dict(variant.resources("AWS::Scheduler::Schedule"))
    if not variant.values.get("ReportSchedule"):
        for name in schedules:
            problems.append(f"{name}: a schedule is created with ReportSchedule empty (it must be off then)")
        return
    if not schedules:
        problems.append("ReportSchedule is set, and no schedule starts the report")
    machines = {name for name, _ in variant.resources("AWS::StepFunctions::StateMachine")}
    roles = dict(variant.resources("AWS::IAM::Role"))
    apis = [api for _, api in variant.resources("AWS::ApiGateway::RestApi")]
    if not apis:
        problems.append("no RestApi: what POST /create_report sends cannot be set beside the schedule's input")
    off = Variant(
        variant.name,
        {**variant.template, "Metadata": {"CafeTranslatedWith": {**variant.values, "ReportSchedule": ""}}},
    )
    for name, schedule in schedules.items():
        condition = variant.template["Resources"][name].get("Condition")
        if condition is None or off.condition(condition):
            problems.append(f"{name}: no condition keeps it off when ReportSchedule is empty")
        properties = schedule["Properties"]
        if properties.get("ScheduleExpression") != {"Ref": "ReportSchedule"}:
            problems.append(f"{name}: runs at {properties.get('ScheduleExpression')}, not ReportSchedule")
        if properties.get("ScheduleExpressionTimezone") != {"Ref": "CafeTimeZone"}:
            problems.append(
                f"{name}: runs in the time zone {properties.get('ScheduleExpressionTimezone')}, "
                "not the café's (CafeTimeZone)"
            )
        if properties.get("FlexibleTimeWindow", {}).get("Mode") != "OFF":
            problems.append(f"{name}: a flexible time window: the report would start some time after the time set")
        target = properties.get("Target", {})
        machine = referenced(target.get("Arn"))
        if machine not in machines or not names_arn(target.get("Arn"), machine, by_ref=True):
            problems.append(f"{name}: its target is {target.get('Arn')}, not the report's state machine")
        for api in apis:
            try:
                sent = create_report_input(api["Properties"]["Body"])
            except ValueError as error:
                problems.append(str(error))
                continue
            if target.get("Input") != sent:
                problems.append(
                    f"{name}: starts the report with the input {target.get('Input')!r}, "
                    f"not what POST /create_report sends ({sent!r})"
                )
        queue = referenced(target.get("DeadLetterConfig", {}).get("Arn"))
        role_name = referenced(target.get("RoleArn"))
        if role_name not in roles:
            problems.append(f"{name}: its role {target.get('RoleArn')} is not a role of the stack")
            continue
        check_schedule_role(role_name, roles[role_name], machine, queue, problems)


def check_schedule_role(name, role, machine, queue, problems):
    """Assumed by EventBridge Scheduler for this account only; may start `machine` and send to the
    dead-letter `queue`, and nothing else."""
    properties = role["Properties"]
    for statement in statements(properties.get("AssumeRolePolicyDocument", {})):
        if statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal")
        services = service_principals(statement)
        if not isinstance(principal, dict) or set(principal) != {"Service"} or services != [SCHEDULER]:
            problems.append(f"{name}: assumed by {principal or statement.get('NotPrincipal')}, not {SCHEDULER} alone")
        if not this_account_only(statement):
            problems.append(
                f"{name}: any account's schedules may assume it (no aws:SourceAccount equal to AWS::AccountId)"
            )
    starts = False
    for document in (p["PolicyDocument"] for p in properties.get("Policies", [])):
        for statement in statements(document):
            if statement.get("Effect") != "Allow":
                continue
            for action in as_list(statement.get("Action", [])):
                for resource in as_list(statement.get("Resource", [])):
                    start = action == "states:StartExecution" and names_arn(resource, machine, by_ref=True)
                    park = action == "sqs:SendMessage" and queue is not None and names_arn(resource, queue)
                    if not (start or park):
                        problems.append(
                            f"{name}: may {action} on {resource}; the schedule's role may only start "
                            f"{machine} (states:StartExecution) and park on its dead-letter queue (sqs:SendMessage)"
                        )
                    starts |= start
    if properties.get("ManagedPolicyArns"):
        problems.append(f"{name}: managed policies on the schedule's role")
    if not starts:
        problems.append(f"{name}: may not start {machine}: the schedule would start nothing")


CHECKS = [
    check_auth,
    check_callers,
    check_s3_endpoints,
    check_integrations,
    check_permissions,
    check_topic_policies,
    check_limits,
    check_alarms,
    check_ops_topic,
    check_dashboards,
    check_report_budget,
    check_rollouts,
    check_schedule,
]


def problems_of(variant):
    problems = []
    for check in CHECKS:
        check(variant, problems)
    return problems


def main():
    folder = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "target" / "sam")
    paths = sorted(folder.glob("*.json"))
    if not paths:
        sys.exit(f"check.py: no translated templates in {folder}; run deploy/transform.py first")
    failed = False
    for path in paths:
        variant = Variant(path.stem, json.loads(path.read_text()))
        problems = problems_of(variant)
        for problem in problems:
            print(f"check [{variant.name}]: {problem}", file=sys.stderr)
        failed |= bool(problems)
        if not problems:
            print(f"check [{variant.name}]: ok")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
