#!/usr/bin/env python3
"""The demo (`make demo`): both pipelines run once against the local stack, each step printed
with the time it took: an order posted, stored and notified; a report requested, emailed and
fetched from the emailed link. The report and the mailbox page are saved under .local/. The
stack is started (local/stack.py's `up`) for the demo and stopped after it, unless it was
already running.
"""

import html
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from stack import EMULATOR, GATEWAY, LOCAL, LOGS, RESOURCES, down, fail, say, up


def request(
    method: str, path: str, body: dict[str, Any] | None = None, accept: str = "application/json"
) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(
        f"{GATEWAY}{path}", data=data, method=method, headers={"Content-Type": "application/json", "Accept": accept}
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


T = TypeVar("T")


def wait_until(what: str, probe: Callable[[], T | None], timeout: float = 90) -> T:
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.25)
    fail(f"timed out after {timeout} s waiting for {what}; see {LOGS}/")


def demo() -> None:
    import boto3

    started = up()
    try:
        session = boto3.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=RESOURCES["region"]
        )
        dynamodb = session.client("dynamodb", endpoint_url=EMULATOR)
        sfn = session.client("stepfunctions", endpoint_url=EMULATOR)
        table = RESOURCES["ordersTable"]["name"]
        clock = [time.time()]

        def step(text: str) -> None:
            now = time.time()
            say(f"[{now - clock[0]:5.2f} s] {text}")
            clock[0] = now

        say("\n== Orders ==")
        order = {
            "item": "flat white",
            "customerID": "demo-customer",
            "quantity": 2,
            "notes": "oat milk & 100% extra hot",
        }
        status, answer = request("POST", "/orders", order)
        if status != 202:
            fail(f"POST /orders answered {status}: {answer}")
        message_id = answer["messageId"]
        step(f"order accepted: POST /orders → 202, SQS messageId {message_id}")

        def stored() -> dict[str, Any] | None:
            items = dynamodb.scan(TableName=table)["Items"]
            return next((i for i in items if i["messageId"]["S"] == message_id), None)

        item = wait_until("the order in DynamoDB", stored)
        order_id = item["orderID"]["S"]
        step(f"order stored by order-writer: table {table}, orderID {order_id}")

        def letter(topic: str, test: Callable[[dict[str, Any]], bool]) -> dict[str, Any] | None:
            _, letters = request("GET", "/mailbox")
            return next((m for m in letters if m["topic"] == topic and test(m)), None)

        note = wait_until(
            "the order notification", lambda: letter("OrderNotifications", lambda m: order_id in m["body"])
        )
        step(f"order notified by order-notifier; {note['to']} reads:")
        say(f"    Subject: {note['subject']}")
        for line in note["body"].splitlines():
            say(f"    {line}")

        say("\n== Inventory report ==")
        status, answer = request("POST", "/create_report", {})
        if status != 200:
            fail(f"POST /create_report answered {status}: {answer}")
        execution = answer["executionArn"]
        step(f"report requested: POST /create_report → 200, execution {execution.rsplit(':', 1)[-1]}")

        def finished() -> Mapping[str, Any] | None:
            described = sfn.describe_execution(executionArn=execution)
            return described if described["status"] != "RUNNING" else None

        described = wait_until("the execution to finish", finished)
        if described["status"] != "SUCCEEDED":
            fail(f"the execution ended {described['status']}: {described.get('error')} {described.get('cause')}")
        output = json.loads(described["output"])
        step(
            f"execution succeeded: report s3://{output['report']['bucket']}/{output['report']['key']}"
            f" ({output['report']['bytes']} bytes)"
        )

        email = wait_until(
            "the report email", lambda: letter("EmailReport", lambda m: m["messageId"] == output["email"]["messageId"])
        )
        step(f"report emailed by report-mailer; {email['to']} reads:")
        say(f"    Subject: {email['subject']}")
        for line in email["body"].splitlines():
            say(f"    {line}")

        link = next(line for line in email["body"].splitlines() if line.startswith("http"))
        with urllib.request.urlopen(link, timeout=30) as response:
            report = response.read()
        saved = LOCAL / "report.html"
        saved.write_bytes(report)
        suppliers = report.count(b'<section class="supplier"')
        step(f"report fetched from the emailed link: {len(report)} bytes, {suppliers} suppliers, saved to {saved}")
        mailbox = save_mailbox(link, saved)
        step(f"mailbox saved to {mailbox}; its report link opens the saved report")
        if started:
            say(
                f"\nThe stack stops now. Open {mailbox} in a browser, or keep the stack running with "
                f"`make local-up` (then {GATEWAY}/mailbox, and `make local-down` to stop)."
            )
        else:
            say(f"\nThe stack keeps running: the mailbox is at {GATEWAY}/mailbox.")
    finally:
        if started:
            down()


def save_mailbox(report_link: str, saved_report: Path) -> Path:
    """The mailbox page as the gateway shows it, kept beside the saved report, with the report's
    link (to the emulator, which stops with the demo) pointing at the saved copy instead."""
    req = urllib.request.Request(f"{GATEWAY}/mailbox", headers={"Accept": "text/html"})
    with urllib.request.urlopen(req, timeout=30) as response:
        page = response.read().decode("utf-8")
    page = page.replace(html.escape(report_link), saved_report.name)
    saved = LOCAL / "mailbox.html"
    saved.write_text(page, encoding="utf-8")
    return saved


if __name__ == "__main__":
    demo()
