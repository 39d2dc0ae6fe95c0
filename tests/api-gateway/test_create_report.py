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
    started = datetime.datetime.fromtimestamp(response.json["startDate"], tz=datetime.timezone.utc)
    assert abs((started - execution["startDate"]).total_seconds()) < 0.01


def test_text_plain_is_415_and_starts_nothing(api):
    before = len(api.executions())
    response = api.post("/create_report", b"{}", headers={"Content-Type": "text/plain"})
    assert response.status == 415
    assert len(api.executions()) == before
