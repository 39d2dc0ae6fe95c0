"""POST /create_report through LocalStack's API Gateway into its Step Functions."""

import datetime
import json

import pytest

HOSTILE = {
    "quotes, backslashes and apostrophes": '{"a": "\\"}\', \\\\", "b\'": "\\\\\\"", "input": "x"}',
    "not JSON": "\"}'\\ {{ $input.body #set($x=1)",
    "empty": "",
    "an input of its own": '{"input": "{\\"override\\": true}", "name": "chosen", "stateMachineArn": "arn:aws:states:us-east-1:000000000000:stateMachine:other"}',
}


@pytest.mark.parametrize("body", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_report_is_started_with_input_empty_whatever_the_body(api, body):
    before = {e["executionArn"] for e in api.executions()}
    response = api.post("/create_report", body)
    assert response.status == 200, response.json
    assert set(response.json) == {"executionArn", "startDate"}
    arn = response.json["executionArn"]
    # The execution exists, in our state machine, and the request body did not reach it.
    assert {e["executionArn"] for e in api.executions()} - before == {arn}
    execution = api.describe_execution(arn)
    assert execution["stateMachineArn"] == api.state_machine_arn
    assert json.loads(execution["input"]) == {}
    assert execution["input"] == "{}"
    # Named after the request ($context.requestId), which API Gateway returns as x-amzn-RequestId.
    assert execution["name"] == response.headers["x-amzn-RequestId"]
    # startDate is Step Functions' own: epoch seconds, as its JSON protocol sends them.
    assert isinstance(response.json["startDate"], (int, float))
    started = datetime.datetime.fromtimestamp(response.json["startDate"], tz=datetime.UTC)
    assert abs((started - execution["startDate"]).total_seconds()) < 0.01


def test_text_plain_is_415_and_starts_nothing(api):
    before = len(api.executions())
    response = api.post("/create_report", b"{}", headers={"Content-Type": "text/plain"})
    assert response.status == 415
    assert len(api.executions()) == before


def test_a_repeated_idempotency_key_answers_the_same_execution(api):
    key = f"nightly-{len(api.executions())}-{id(api)}"
    first = api.post("/create_report", b"{}", headers={"Idempotency-Key": key})
    assert first.status == 200, first.json
    arn = first.json["executionArn"]
    assert arn.endswith(f":execution:{api.state_machine_arn.rsplit(':', 1)[1]}:{key}")
    # Whether the execution still runs (Step Functions returns it) or has ended
    # (ExecutionAlreadyExists, which the 400 template turns into the same ARN), the same one.
    for _ in range(2):
        again = api.post("/create_report", b"{}", headers={"Idempotency-Key": key})
        assert again.status == 200, again.json
        assert again.json["executionArn"] == arn
    assert [e["executionArn"] for e in api.executions() if e["name"] == key] == [arn]


def test_localstack_names_an_execution_with_any_key(api):
    # AWS's (and moto's) StartExecution refuses "two words" with InvalidName, which the 400
    # template answers with 400 (test_templates.py renders it); LocalStack's takes any name.
    response = api.post("/create_report", b"{}", headers={"Idempotency-Key": "two words"})
    assert response.status == 200, response.json
    assert response.json["executionArn"].endswith(":two words")
