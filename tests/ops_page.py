#!/usr/bin/env python3
"""The gateway's ops page, and the newest report it links to, in a real browser at desktop and
phone width: screenshots, headings, and the layout as Chromium laid it out. Needs a running local
stack that has done something (make e2e runs this after the end-to-end tests) and Debian's
chromium (apt-get install chromium). Stdlib only: Chromium is driven over the DevTools protocol
on a pipe (--remote-debugging-pipe: it reads NUL-terminated JSON on fd 3, writes on fd 4).

    python3 tests/ops_page.py          # target/ops/{ops,report}-{desktop,phone}.png
    python3 tests/ops_page.py --docs   # and copies the four into docs/

Exits non-zero, saying why, if chromium is missing, or the page is not as it should be:
a heading missing; at 1280x900 the functions' metrics not in the first screen; at 375 px anything
wider than the screen; a parking queue holding a message without the warning look and its verbs,
or an empty one without the calm look; the report without its title or its reorder section.
"""

import argparse
import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GATEWAY = "http://127.0.0.1:3000"
URL = f"{GATEWAY}/ops"
OUT = ROOT / "target" / "ops"
DOCS = ROOT / "docs"
SIZES = {"desktop": (1280, 900), "phone": (375, 1200)}
HEADINGS = ["Café ops", "Queues", "Order stream", "Report executions", "Function metrics"]
# The verbs each parking queue's warning names, in this order.
VERBS = {"orders-dlq": ["make dlq-peek", "make redrive-orders"], "notifier-failures": ["make replay-notifications"]}
REPORT_TITLE = "Café inventory report"
# A browser that hangs on a page must not hang the check.
TIMEOUT = 60


class Browser:
    """One headless Chromium, driven over its DevTools pipe, with one page (a flat session)."""

    def __init__(self) -> None:
        to_chromium, self._writer = os.pipe()
        self._reader, from_chromium = os.pipe()
        self._profile = tempfile.mkdtemp(prefix="cafe-ops-chromium-")

        def pipes_on_3_and_4() -> None:
            # Above 10 first, so that neither lands on 3 or 4 and is overwritten by the other.
            high_in = fcntl.fcntl(to_chromium, fcntl.F_DUPFD, 10)
            high_out = fcntl.fcntl(from_chromium, fcntl.F_DUPFD, 10)
            os.dup2(high_in, 3)
            os.dup2(high_out, 4)
            # Its own process group, so that close() can end the helpers it forks (zygote,
            # renderers), which go on writing into the profile. (The crash handler leaves the
            # group, but it keeps its files elsewhere and ends with the browser.)
            os.setsid()

        command = [
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            "--remote-debugging-pipe",
            f"--user-data-dir={self._profile}",
        ]
        self._process = subprocess.Popen(
            command,
            pass_fds=(3, 4),
            preexec_fn=pipes_on_3_and_4,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_chromium)
        os.close(from_chromium)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []
        try:
            target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            self._session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            self.page("Page.enable")
        except BaseException:
            self.close()  # no caller will: its processes, pipes and profile would be left
            raise

    def close(self) -> None:
        """Ask Chromium to quit, end every process it started, then remove its profile."""
        with contextlib.suppress(OSError):
            os.write(self._writer, json.dumps({"id": 0, "method": "Browser.close"}).encode() + b"\0")
        # Waited for without reaping it: while its process is a zombie, the group's id cannot be
        # given to another process, so the kill below reaches only what Chromium started.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if os.waitid(os.P_PID, self._process.pid, os.WEXITED | os.WNOWAIT | os.WNOHANG):
                break
            time.sleep(0.05)
        with contextlib.suppress(ProcessLookupError):  # the whole group has already gone
            os.killpg(self._process.pid, signal.SIGKILL)
        self._process.wait()
        os.close(self._writer)
        os.close(self._reader)
        # A helper killed a moment ago may still be writing, or deleting its own files: try again.
        for _ in range(20):
            shutil.rmtree(self._profile, ignore_errors=True)
            if not os.path.exists(self._profile):
                return
            time.sleep(0.25)
        print(f"warning: could not remove chromium's profile {self._profile}", file=sys.stderr)

    def _message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._reader], [], [], left)[0]:
                raise TimeoutError("chromium did not answer in time")
            chunk = os.read(self._reader, 1 << 20)
            if not chunk:
                raise ConnectionError("chromium closed its DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> dict[str, Any]:
        self._next_id += 1
        request: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            request["sessionId"] = session
        os.write(self._writer, json.dumps(request).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT
        while True:
            message = self._message(deadline)
            if message.get("id") == self._next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def page(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.send(method, params, self._session)

    def open(self, url: str, width: int, height: int) -> None:
        """`url` at this viewport, a phone's (touch, the page's viewport tag) below 500 px."""
        self.page(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 500},
        )
        self.events.clear()
        self.page("Page.navigate", {"url": url})
        deadline = time.monotonic() + TIMEOUT
        while not any(e.get("method") == "Page.loadEventFired" for e in self.events):
            self.events.append(self._message(deadline))

    def evaluate(self, expression: str) -> Any:
        answer = self.page("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in answer:
            raise RuntimeError(f"{expression}: {answer['exceptionDetails']}")
        return answer["result"].get("value")

    def screenshot(self, path: Path) -> None:
        shot = self.page("Page.captureScreenshot", {"format": "png"})
        path.write_bytes(base64.b64decode(shot["data"]))


# What the page shows of each parking queue, from the page as laid out.
PARKING_CARDS = """
[...document.querySelectorAll('#queues .card')].map(card => ({
  name: card.querySelector('h3').textContent,
  classes: [...card.classList],
  messages: [...card.querySelectorAll('tr')]
    .filter(row => ['waiting', 'in flight'].includes(row.querySelector('th').textContent))
    .reduce((sum, row) => sum + Number(row.querySelector('td').textContent), 0),
  commands: [...card.querySelectorAll('.action code')].map(code => code.textContent),
  status: card.querySelector('.status')?.textContent ?? '',
  background: getComputedStyle(card).backgroundColor,
  border: getComputedStyle(card).borderColor,
}))
"""


def check_queues(browser: Browser) -> list[str]:
    """A parking queue that holds a message looks unlike every calm card and names its verbs;
    an empty one looks calm."""
    problems = []
    cards = browser.evaluate(PARKING_CARDS)
    calm_looks = {(c["background"], c["border"]) for c in cards if "needs-action" not in c["classes"]}
    for card in cards:
        verbs = VERBS.get(card["name"])
        if verbs is None:
            continue
        if card["messages"] > 0:
            look = (card["background"], card["border"])
            if "needs-action" not in card["classes"] or card["status"] != "needs action" or look in calm_looks:
                problems.append(f"{card['name']} holds {card['messages']} message(s) but does not stand out: {card}")
            elif card["commands"] != verbs:
                problems.append(f"{card['name']} names {card['commands']}, not {verbs}")
            else:
                print(f"{card['name']} holds {card['messages']}: needs action, {' then '.join(verbs)}")
        elif "calm" not in card["classes"] or card["commands"]:
            problems.append(f"{card['name']} is empty but does not look calm: {card}")
        else:
            print(f"{card['name']} is empty: calm")
    missing = set(VERBS) - {card["name"] for card in cards}
    if missing:
        problems.append(f"no card for {sorted(missing)} in the queues")
    # The end-to-end tests park an order; with none parked the needs-action look went unchecked.
    if not any(card["messages"] > 0 for card in cards if card["name"] in VERBS):
        problems.append("no parking queue holds a message, so the needs-action look was not checked")
    return problems


def check_fits(browser: Browser, what: str, width: int) -> list[str]:
    scroll_width = browser.evaluate("document.documentElement.scrollWidth")
    if scroll_width > width:
        return [f"{what} at {width} px is {scroll_width} px wide: it scrolls sideways"]
    return []


def check_ops(browser: Browser, name: str, width: int, height: int) -> list[str]:
    problems = []
    browser.open(URL, width, height)
    headings = browser.evaluate("[...document.querySelectorAll('h1, h2')].map(h => h.textContent)")
    missing = [heading for heading in HEADINGS if heading not in headings]
    if missing:
        problems.append(f"the ops page at {width} px lacks the headings {missing} (has {headings})")
    if name == "desktop":
        metrics = browser.evaluate(
            "(() => { const s = document.getElementById('metrics'); const first = s && s.querySelector('.card, p');"
            " return s && {top: s.getBoundingClientRect().top,"
            " firstBottom: first ? first.getBoundingClientRect().bottom : null, screen: innerHeight}; })()"
        )
        if metrics is None:
            problems.append("the ops page has no #metrics section")
        elif metrics["top"] >= metrics["screen"] or (metrics["firstBottom"] or 0) > metrics["screen"]:
            problems.append(f"the functions' metrics are below the fold at {width}x{height}: {metrics}")
        else:
            print(f"metrics at {metrics['top']:.0f} px, in the first {metrics['screen']} px")
        problems += check_queues(browser)
    else:
        problems += check_fits(browser, "the ops page", width)
    shot = OUT / f"ops-{name}.png"
    browser.screenshot(shot)
    print(f"{shot}: {width}x{height}")
    return problems


def newest_report_link(browser: Browser) -> str | None:
    """The ops page's link to the newest succeeded execution's report (executions are listed
    newest first, and only a succeeded one links a report)."""
    browser.open(URL, *SIZES["desktop"])
    return browser.evaluate("document.querySelector('#executions a[href^=\"/reports/\"]')?.href ?? null")


def check_report(browser: Browser, url: str, name: str, width: int, height: int) -> list[str]:
    problems = []
    browser.open(url, width, height)
    title = browser.evaluate("document.querySelector('h1')?.textContent.trim() ?? ''")
    if not title.startswith(REPORT_TITLE):
        problems.append(f"the report's h1 is {title!r}, not one starting {REPORT_TITLE!r}")
    if not browser.evaluate("document.getElementById('reorder') !== null"):
        problems.append("the report has no element with id reorder (its reorder-now section)")
    if name == "phone":
        problems += check_fits(browser, "the report", width)
    shot = OUT / f"report-{name}.png"
    browser.screenshot(shot)
    print(f"{shot}: {width}x{height}")
    return problems


def main() -> str | None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", action="store_true", help="also copy the four screenshots into docs/")
    arguments = parser.parse_args()
    if shutil.which("chromium") is None:
        if shutil.which("apt-get") is None:
            # Off Debian `make chromium` installs nothing; the check is skipped, not failed.
            print("ops page: skipped, chromium is not installed (install Chromium to run this check)")
            return None
        return "chromium is not installed (make chromium, or apt-get install chromium)"
    try:
        with urllib.request.urlopen(URL, timeout=10) as response:
            response.read()
    except OSError as e:
        return f"{URL} does not answer ({e}); start the stack with make local-up"

    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.png"):
        old.unlink()
    problems = []
    browser = Browser()
    try:
        for name, (width, height) in SIZES.items():
            problems += check_ops(browser, name, width, height)
        report = newest_report_link(browser)
        if report is None:
            problems.append("the ops page links no report: no execution has succeeded")
        else:
            print(f"the newest report: {report}")
            for name, (width, height) in SIZES.items():
                problems += check_report(browser, report, name, width, height)
    finally:
        browser.close()

    if arguments.docs:
        for shot in sorted(OUT.glob("*.png")):
            shutil.copyfile(shot, DOCS / shot.name)
            print(f"copied {shot.name} into docs/")
    return "\n".join(problems) or None


if __name__ == "__main__":
    sys.exit(main())
