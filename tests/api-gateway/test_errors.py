"""What the client sees when SQS or Step Functions refuse the call: an error, as JSON."""

import cafe_api

ORDER = b'{"item": "x", "customerID": "c"}'


def test_a_deleted_queue_is_a_502_error(fresh_api):
    fresh_api.aws["sqs"].delete_queue(QueueUrl=fresh_api.queue_url)
    response = fresh_api.post("/orders", ORDER)
    # SQS answers 400 (AWS.SimpleQueueService.NonExistentQueue), but the queue is missing, not the
    # order wrong: a 5XX, which clients retry and the Api5xx alarm counts.
    assert response.status == 502
    assert response.json == {"error": "the order queue is unavailable; the order was not taken, send it again"}
    # Nothing recreated the queue.
    assert fresh_api.queue_url not in fresh_api.aws["sqs"].list_queues().get("QueueUrls", [])


def test_a_character_sqs_refuses_is_a_400_error_and_nothing_is_queued(fresh_api):
    # U+FFFE is valid in a JSON string (the validator passes it) but not in an SQS message.
    body = '{"item": "a\ufffeb", "customerID": "c"}'.encode("utf-8")
    response = fresh_api.post("/orders", body)
    assert response.status == 400
    assert response.json["error"].startswith(cafe_api.SQS_ERROR)
    fresh_api.assert_queue_empty()
    # The same character written as a JSON escape is plain text to SQS, and is queued as sent.
    escaped = b'{"item": "a\\ufffeb", "customerID": "c"}'
    assert fresh_api.post("/orders", escaped).status == 202
    (message,) = fresh_api.receive(1)
    assert message["Body"].encode() == escaped


def test_a_deleted_state_machine_is_a_502_error(fresh_api):
    fresh_api.aws["stepfunctions"].delete_state_machine(stateMachineArn=fresh_api.state_machine_arn)
    response = fresh_api.post("/create_report", b"{}")
    assert response.status == 502
    # Step Functions' message quotes the ARN with ': JSON still, once escapeJavaScript's \' is
    # undone (LocalStack's escapeJavaScript does not escape ' at all; see test_templates.py for
    # AWS's).
    assert response.json == {
        "error": f"{cafe_api.REPORT_ERROR}State Machine Does Not Exist: '{fresh_api.state_machine_arn}'"
    }
