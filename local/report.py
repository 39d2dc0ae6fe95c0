#!/usr/bin/env python3
"""`make report`: on the running local stack, start exactly what the report schedule starts, wait
for it to end, and print its status and the email it produced.

The schedule (template.yaml, the `AWS::Scheduler::Schedule`) calls Step Functions' StartExecution
on the report's state machine with its `Target.Input` and no name; this does the same on the local
state machine (its ARN from the emulator's ready file), with the input read from the schedule in
template.yaml, where it is written once, and a UUID for a name, as Step Functions names it. The email is the one the gateway's mailbox shows for this
execution. Exits non-zero if the stack is not running, the execution does not succeed, or no
email comes.

    python local/report.py
"""

import json
import os
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from resources import TemplateError, read_template
from stack import EMULATOR, GATEWAY, LOCAL, LOCAL_AWS, RESOURCES, fail, running, say

READY_FILE = Path(os.environ.get("EMULATOR_READY_FILE", str(LOCAL / "emulator.json")))
# A report takes seconds locally; the mailer may wait up to REPORT_WAIT_SECONDS (240) for the
# renderer, so the execution is given longer than that before this gives up.
EXECUTION_TIMEOUT_SECONDS = 330
# The email is published inside the execution; the mailbox shows it once the emulator wrote it.
EMAIL_TIMEOUT_SECONDS = 30


def schedule_input(template: dict[str, Any] | None = None) -> str:
    """The execution input the report schedule sends: its `Target.Input` in template.yaml."""
    resources = (template or read_template())["Resources"]
    schedules = {k: r for k, r in resources.items() if r["Type"] == "AWS::Scheduler::Schedule"}
    if len(schedules) != 1:
        raise TemplateError(f"template.yaml has {len(schedules)} schedules; make report starts what the one does")
    name, schedule = next(iter(schedules.items()))
    sent = schedule["Properties"]["Target"].get("Input")
    if not isinstance(sent, str):
        raise TemplateError(f"template.yaml: {name}'s Target.Input is {sent!r}, not the input written as it is")
    return sent


def start_as_scheduled(sfn: Any, state_machine_arn: str, execution_input: str) -> str:
    """StartExecution as EventBridge Scheduler's Step Functions target calls it: the schedule's
    input, and no name of the caller's, so Step Functions names the execution with a UUID; returns
    the execution's ARN. The UUID is sent here: moto 5.2.5's executing backend names a nameless
    execution None (its `$$.Execution.Name` is null), and a second nameless start with the same
    input would return the first execution instead of starting another."""
    started = sfn.start_execution(stateMachineArn=state_machine_arn, input=execution_input, name=str(uuid.uuid4()))
    return str(started["executionArn"])


def wait_until_ended(sfn: Any, execution_arn: str, timeout: float = EXECUTION_TIMEOUT_SECONDS) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        described: dict[str, Any] = sfn.describe_execution(executionArn=execution_arn)
        if described["status"] != "RUNNING":
            return described
        if time.monotonic() > deadline:
            fail(f"the execution {execution_arn} is still running after {timeout:.0f} s; see .local/logs/")
        time.sleep(0.25)


def mailbox() -> list[dict[str, Any]]:
    request = urllib.request.Request(f"{GATEWAY}/mailbox", headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        letters: list[dict[str, Any]] = json.load(response)
    return letters


def emails_of(letters: list[dict[str, Any]], execution: dict[str, Any], topic: str) -> list[dict[str, Any]]:
    """The letters on the report topic that this execution sent: the report's (its output names
    the message) or the failure notice (it names the execution)."""
    name = execution["executionArn"].rsplit(":", 1)[-1]
    try:
        message_id = json.loads(execution.get("output") or "{}").get("email", {}).get("messageId")
    except (ValueError, AttributeError):
        message_id = None
    return [
        letter
        for letter in letters
        if letter["topic"] == topic and (letter.get("messageId") == message_id or name in letter["body"])
    ]


def main() -> None:
    import boto3

    try:
        execution_input = schedule_input()
    except TemplateError as error:
        fail(str(error))
    if not running() or not READY_FILE.exists():
        fail(
            f"the local stack is not running ({GATEWAY} does not answer): start it with `make local-up`, then `make report`"
        )
    machine = json.loads(READY_FILE.read_text(encoding="utf-8"))["stateMachine"]
    topic = RESOURCES["stateMachine"]["substitutions"]["ReportTopicArn"].rsplit(":", 1)[-1]
    sfn = boto3.client(
        "stepfunctions",
        endpoint_url=EMULATOR,
        region_name=LOCAL_AWS["AWS_REGION"],
        aws_access_key_id=LOCAL_AWS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=LOCAL_AWS["AWS_SECRET_ACCESS_KEY"],
    )

    say(f"starting {machine['name']} as the report schedule would: StartExecution with the input {execution_input}")
    began = time.monotonic()
    execution_arn = start_as_scheduled(sfn, machine["arn"], execution_input)
    say(f"execution {execution_arn.rsplit(':', 1)[-1]} started; waiting for it to end")
    execution = wait_until_ended(sfn, execution_arn)
    say(f"execution {execution['status']} after {time.monotonic() - began:.1f} s")
    if execution["status"] != "SUCCEEDED":
        say(f"    error: {execution.get('error')}; cause: {execution.get('cause')}")

    deadline = time.monotonic() + EMAIL_TIMEOUT_SECONDS
    while not (emails := emails_of(mailbox(), execution, topic)):
        if time.monotonic() > deadline:
            fail(f"no email from this execution on {topic} after {EMAIL_TIMEOUT_SECONDS} s ({GATEWAY}/mailbox)")
        time.sleep(0.25)
    for email in emails:
        say(f"\nthe email, as {email.get('to')} reads it ({GATEWAY}/mailbox):")
        say(f"    Subject: {email['subject']}")
        for line in email["body"].splitlines():
            say(f"    {line}")
    sys.exit(0 if execution["status"] == "SUCCEEDED" else 1)


if __name__ == "__main__":
    main()
