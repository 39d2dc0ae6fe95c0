"""The template's mapping templates rendered with AWS's documented $util, and the resolver.

LocalStack's $util.escapeJavaScript is json.dumps without the quotes: it leaves ' alone, so on
LocalStack the templates' .replaceAll("\\'", "'") has nothing to undo and the end-to-end tests
cannot show that it works. AWS documents that escapeJavaScript escapes ' as \\' (JavaScript string
rules, as Apache Commons' StringEscapeUtils.escapeJavaScript: also " \\ / and control characters,
and every character above U+007F as \\uXXXX) and that JSON output needs that replaceAll. Here the
templates are rendered by LocalStack's VTL engine with an escapeJavaScript that follows those
rules, and every result must be JSON that says the message exactly.
"""

import json
import urllib.parse

import cafe_api
import pytest
import resolve
from localstack.services.apigateway.next_gen.execute_api import template_mapping

SHORT_ESCAPES = {
    "'": "\\'",
    '"': '\\"',
    "\\": "\\\\",
    "/": "\\/",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}


def escape_javascript_as_aws(value) -> str:
    """StringEscapeUtils.escapeJavaScript over the UTF-16 code units of `value`."""
    out = []
    for unit in str(value).encode("utf-16-be").hex(" ", 2).split():
        code = int(unit, 16)
        char = chr(code) if code < 0xD800 or code > 0xDFFF else None
        if char in SHORT_ESCAPES:
            out.append(SHORT_ESCAPES[char])
        elif code < 0x20 or code > 0x7F:
            out.append(f"\\u{code:04X}")
        else:
            out.append(char)
    return "".join(out)


class AwsUtil(template_mapping.VelocityUtilApiGateway):
    def escapeJavaScript(self, obj):
        return escape_javascript_as_aws(obj)


class AwsVtl(template_mapping.ApiGatewayVtlTemplate):
    def prepare_namespace(self, variables, source=template_mapping.APIGW_SOURCE):
        namespace = super().prepare_namespace(variables, source)
        namespace["util"] = AwsUtil()
        return namespace


def render(template: str, body: str, params=None, context=None) -> str:
    variables = {
        "input": {"body": body, "params": params or {"path": {}, "querystring": {}, "header": {}}},
        "context": {"responseOverride": {}, **(context or {})},
    }
    return AwsVtl().render_vtl(template, variables)


def answer(template: str, body: str, status: int, key: str = "") -> tuple[int, dict]:
    """(status, JSON) an integration response answers with: its own `status`, unless the template
    overrides it through $context.responseOverride.status."""
    context = {"responseOverride": {}}
    params = {"path": {}, "querystring": {}, "header": {"Idempotency-Key": key} if key else {}}
    rendered = render(template, body, params, context)
    return int(context["responseOverride"].get("status", status)), json.loads(rendered)


@pytest.fixture(scope="module")
def definition():
    # The intrinsics do not touch the mapping templates but the report's request template
    # (resolved here with placeholders).
    known = {
        "OrdersQueue": {"QueueName": "q", "Arn": "arn:aws:sqs:us-east-1:123456789012:q"},
        "ReportStateMachine": {"Ref": "arn:aws:states:us-east-1:123456789012:stateMachine:m", "Name": "m"},
        "ApiRole": {"Arn": "arn:aws:iam::123456789012:role/r"},
    }
    pseudo = {"AWS::Region": "us-east-1", "AWS::Partition": "aws", "AWS::AccountId": "123456789012"}
    return resolve.api_definition(cafe_api.load_template("defaults"), "CafeApi", pseudo, known)


def responses(definition, path):
    return definition["paths"][path]["post"]["x-amazon-apigateway-integration"]["responses"]


HOSTILE_MESSAGES = [
    "The specified queue does not exist for this wsdl version.",
    "State Machine Does Not Exist: 'arn:aws:states:us-east-1:123456789012:stateMachine:m'",
    "it's \"quoted\" \\ back\\'slash / slash",
    "\\'",
    "line\nbreak\ttab\r\u0001",
    "é 漢字 😀 \u2028",
    "</script><script>",
    "",
]


@pytest.mark.parametrize("message", HOSTILE_MESSAGES)
def test_the_sqs_error_is_json_with_awss_escaping(definition, message):
    template = responses(definition, "/orders")["400"]["responseTemplates"]["application/json"]
    body = json.dumps(
        {"Error": {"Code": "InvalidMessageContents", "Message": message, "Type": "Sender"}, "RequestId": "r"}
    )
    assert answer(template, body, 400) == (400, {"error": cafe_api.SQS_ERROR + message})


# The codes SQS answers 400 with that the order causes (the rest is SQS's side, or ours).
ORDER_CODES = [
    "InvalidMessageContents",
    "InvalidParameterValue",
    "InvalidAttributeName",
    "InvalidAttributeValue",
    "MissingParameter",
]
SERVICE_CODES = [
    "AWS.SimpleQueueService.NonExistentQueue",
    "QueueDoesNotExist",
    "KmsAccessDenied",
    "KMS.DisabledException",
    "RequestThrottled",
    "ThrottlingException",
    "OverLimit",
    "AccessDenied",
    "",
    "X",
]


@pytest.mark.parametrize("code", ORDER_CODES)
def test_an_sqs_refusal_the_order_causes_is_a_400(definition, code):
    template = responses(definition, "/orders")["400"]["responseTemplates"]["application/json"]
    for shape in (
        {"Error": {"Code": code, "Message": "m"}},
        {"ErrorResponse": {"Error": {"Code": code, "Message": "m"}}},
    ):
        status, error = answer(template, json.dumps(shape), 400)
        assert status == 400
        assert error["error"].startswith(cafe_api.SQS_ERROR)


@pytest.mark.parametrize("code", SERVICE_CODES)
def test_an_sqs_400_that_is_sqss_side_is_a_502(definition, code):
    template = responses(definition, "/orders")["400"]["responseTemplates"]["application/json"]
    status, error = answer(template, json.dumps({"Error": {"Code": code, "Message": "m", "Type": "Sender"}}), 400)
    assert (status, error) == (502, {"error": "the order queue is unavailable; the order was not taken, send it again"})


@pytest.mark.parametrize("message", HOSTILE_MESSAGES)
def test_the_step_functions_error_is_json_with_awss_escaping(definition, message):
    template = responses(definition, "/create_report")["default"]["responseTemplates"]["application/json"]
    rendered = render(template, json.dumps({"__type": "StateMachineDoesNotExist", "message": message}))
    assert json.loads(rendered) == {"error": cafe_api.REPORT_ERROR + message}


def test_without_the_replace_all_an_apostrophe_breaks_the_json(definition):
    # Why the templates have it: AWS's \' is not a JSON escape.
    template = responses(definition, "/orders")["400"]["responseTemplates"]["application/json"]
    bare = template.replace(""".replaceAll("\\\\'", "'")""", "")
    assert bare != template
    with pytest.raises(ValueError):
        json.loads(render(bare, json.dumps({"Error": {"Code": "InvalidParameterValue", "Message": "it's"}})))


def balanced(text: str) -> tuple[str, str]:
    """(the argument, what follows its closing parenthesis) of a call whose "(" was just read."""
    depth = 1
    for index, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0:
            return text[:index], text[index + 1 :]
    raise ValueError(f"unbalanced: {text}")


def test_every_escape_javascript_in_a_json_string_is_followed_by_the_replace_all(definition):
    # The 2XX templates escape ids and ARNs, which have no '; every other use must undo \'.
    for path in ("/orders", "/create_report"):
        for selection, response in responses(definition, path).items():
            template = response["responseTemplates"]["application/json"]
            for use in template.split("$util.escapeJavaScript(")[1:]:
                value, rest = balanced(use)
                if "MessageId" in value or "executionArn" in value:
                    continue
                assert rest.startswith(""".replaceAll("\\\\'", "'")"""), (path, selection)


def test_the_success_templates_are_json(definition):
    orders = responses(definition, "/orders")["2\\d{2}"]["responseTemplates"]["application/json"]
    body = json.dumps(
        {
            "SendMessageResponse": {
                "SendMessageResult": {"MessageId": "5fea7756-0ea4-451a-a703-a558b933e274", "MD5OfMessageBody": "x"}
            }
        }
    )
    assert json.loads(render(orders, body)) == {"messageId": "5fea7756-0ea4-451a-a703-a558b933e274"}
    report = responses(definition, "/create_report")["2\\d{2}"]["responseTemplates"]["application/json"]
    body = json.dumps({"executionArn": "arn:aws:states:us-east-1:123456789012:execution:m:r", "startDate": 1.718e9})
    assert json.loads(render(report, body)) == {
        "executionArn": "arn:aws:states:us-east-1:123456789012:execution:m:r",
        "startDate": 1.718e9,
    }


@pytest.mark.parametrize(
    "order, key",
    [
        ('{"item": "a&b+c%d=e \\"\' é漢字😀\\n<script>", "customerID": "c"}', "abc&=+ é"),
        ('{"item": "x", "customerID": "c"}', ""),
    ],
)
def test_the_send_message_form_decodes_to_the_order_and_the_key(definition, order, key):
    template = definition["paths"]["/orders"]["post"]["x-amazon-apigateway-integration"]["requestTemplates"][
        "application/json"
    ]
    params = {"path": {}, "querystring": {}, "header": {"Idempotency-Key": key} if key else {}}
    form = render(template, order, params)
    fields = urllib.parse.parse_qs(form, keep_blank_values=True, strict_parsing=True, encoding="utf-8", errors="strict")
    expected = {"Action": ["SendMessage"], "MessageBody": [order]}
    if key:
        expected |= {
            "MessageAttribute.1.Name": ["Idempotency-Key"],
            "MessageAttribute.1.Value.DataType": ["String"],
            "MessageAttribute.1.Value.StringValue": [key],
        }
    assert fields == expected


MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:m"


@pytest.mark.parametrize("key", ["nightly-2026-12-05", "it's", "é漢字"])
def test_an_idempotency_key_names_the_execution(definition, key):
    template = definition["paths"]["/create_report"]["post"]["x-amazon-apigateway-integration"]["requestTemplates"][
        "application/json"
    ]
    params = {"path": {}, "querystring": {}, "header": {"Idempotency-Key": key}}
    rendered = render(template, "{}", params, context={"requestId": "r"})
    assert json.loads(rendered) == {"input": "{}", "name": key, "stateMachineArn": MACHINE}


def test_a_repeated_key_answers_the_execution_it_named(definition):
    template = responses(definition, "/create_report")["400"]["responseTemplates"]["application/json"]
    ended = json.dumps({"__type": "ExecutionAlreadyExists", "message": f"Execution Already Exists: '{MACHINE}'"})
    assert answer(template, ended, 400, key="nightly-1") == (
        200,
        {"executionArn": "arn:aws:states:us-east-1:123456789012:execution:m:nightly-1", "repeated": True},
    )


def test_a_key_step_functions_refuses_as_a_name_is_the_callers_fault(definition):
    template = responses(definition, "/create_report")["400"]["responseTemplates"]["application/json"]
    status, error = answer(
        template, json.dumps({"__type": "InvalidName", "message": "Invalid Name: 'a b'"}), 400, key="a b"
    )
    assert status == 400
    assert error["error"].startswith("the Idempotency-Key is not a valid execution name")


@pytest.mark.parametrize(
    "body",
    [
        {"__type": "ExecutionAlreadyExists", "message": "m"},
        {"__type": "StateMachineDoesNotExist", "message": "it's gone"},
        {"__type": "ExecutionLimitExceeded", "message": "m"},
    ],
)
def test_any_other_step_functions_400_is_a_502(definition, body):
    # An ExecutionAlreadyExists without a key cannot be ours (each request names its own).
    template = responses(definition, "/create_report")["400"]["responseTemplates"]["application/json"]
    assert answer(template, json.dumps(body), 400) == (502, {"error": cafe_api.REPORT_ERROR + body["message"]})


def test_the_report_input_is_fixed(definition):
    template = definition["paths"]["/create_report"]["post"]["x-amazon-apigateway-integration"]["requestTemplates"][
        "application/json"
    ]
    rendered = render(template, '{"input": "x"}\'"\\', context={"requestId": "5fea7756-0ea4-451a-a703-a558b933e274"})
    assert json.loads(rendered) == {
        "input": "{}",
        "name": "5fea7756-0ea4-451a-a703-a558b933e274",
        "stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:m",
    }


def test_the_gateway_responses_are_json_once_substituted(definition):
    # Gateway-response templates get plain $context substitution, not VTL. What AWS puts in
    # validationErrorString is not shown here (LocalStack leaves it empty); a finding without
    # quotes or backslashes keeps the body JSON.
    responses_ = definition["x-amazon-apigateway-gateway-responses"]
    bad_request = responses_["BAD_REQUEST_BODY"]["responseTemplates"]["application/json"]
    finding = "[numeric instance is lower than the required minimum (minimum: 1, found: 0)]"
    assert json.loads(bad_request.replace("$context.error.validationErrorString", finding)) == {
        "error": f"the order is not valid: {finding}"
    }
    assert json.loads(responses_["UNSUPPORTED_MEDIA_TYPE"]["responseTemplates"]["application/json"])


class TestResolver:
    def resolver(self, **conditions):
        return resolve.Resolver(
            {"Mode": "A", "Size": "2"},
            {"AWS::Region": "eu-west-1", "AWS::AccountId": "111122223333"},
            {"Queue": {"Ref": "https://q", "QueueName": "q1", "Arn": "arn:q1"}},
            {"IsA": {"Fn::Equals": [{"Ref": "Mode"}, "A"]}, "NotA": {"Fn::Not": [{"Condition": "IsA"}]}, **conditions},
        )

    def test_sub_ref_and_get_att(self):
        r = self.resolver()
        assert (
            r.resolve({"Fn::Sub": "x:${AWS::Region}:${Queue.QueueName}:${Queue}:${Size}"})
            == "x:eu-west-1:q1:https://q:2"
        )
        assert r.resolve({"Fn::GetAtt": ["Queue", "Arn"]}) == "arn:q1"
        assert r.resolve({"Fn::GetAtt": "Queue.Arn"}) == "arn:q1"
        assert r.resolve({"Fn::Sub": ["${a}-${Mode}", {"a": {"Ref": "Size"}}]}) == "2-A"

    def test_sub_keeps_vtl_and_literal_dollars(self):
        r = self.resolver()
        assert (
            r.resolve({"Fn::Sub": "$context.requestId ${!Literal} $input.path('$.x')"})
            == "$context.requestId ${Literal} $input.path('$.x')"
        )

    def test_if_and_no_value(self):
        r = self.resolver()
        assert r.resolve([{"Fn::If": ["IsA", {"a": 1}, {"b": 2}]}]) == [{"a": 1}]
        assert r.resolve([{"Fn::If": ["NotA", {"a": 1}, {"Ref": "AWS::NoValue"}]}]) == []
        assert r.resolve({"k": {"Fn::If": ["NotA", 1, {"Ref": "AWS::NoValue"}]}, "j": 2}) == {"j": 2}

    def test_equals_compares_as_strings(self):
        r = self.resolver(SizeIsTwo={"Fn::Equals": [{"Ref": "Size"}, 2]})
        assert r.condition("SizeIsTwo") is True

    def test_anything_unknown_is_an_error(self):
        r = self.resolver()
        for node in (
            {"Ref": "Nope"},
            {"Fn::GetAtt": ["Queue", "Nope"]},
            {"Fn::Sub": "${Other.Arn}"},
            {"Fn::If": ["Nope", 1, 2]},
            {"Fn::ImportValue": "x"},
        ):
            with pytest.raises(resolve.Unresolved):
                r.resolve(node)

    def test_the_translated_definitions_resolve_completely(self):
        for variant in ("defaults", "ApiAuth-API_KEY"):
            template = cafe_api.load_template(variant)
            known = {
                "OrdersQueue": {"QueueName": "q", "Arn": "arn:q"},
                "ReportStateMachine": {"Ref": "arn:m", "Name": "m"},
                "ApiRole": {"Arn": "arn:r"},
            }
            pseudo = {"AWS::Region": "us-east-1", "AWS::Partition": "aws", "AWS::AccountId": "123456789012"}
            definition = resolve.api_definition(template, "CafeApi", pseudo, known)
            assert resolve.leftover_intrinsics(definition) == []
            scheme = "sigv4" if variant == "defaults" else "api_key"
            assert definition["paths"]["/orders"]["post"]["security"] == [{scheme: []}]
