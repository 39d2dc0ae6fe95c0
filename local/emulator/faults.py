"""Faults injected on request, for the fault tests (`make test-faults`).

`POST /_cafe/faults` with `{"target": "dynamodb:PutItem", "mode": "error", "seconds": 5}` makes
that operation fail with a 503 for 5 seconds (`"mode": "delay", "delay": 3` delays it instead;
an error with a `"delay"` fails slowly, after that long; `"count": 2` limits the fault to the
first two calls).
A target is `service:Operation` (`sns:PublishBatch`, `dynamodb:*` for the tables,
`dynamodbstreams:GetRecords` for their streams; S3 operations are named by HTTP method,
`s3:PUT`), or `mysql`: the functions reach MySQL through a relay (see `relay`), and a `mysql`
fault closes every connection through it and refuses new ones. `GET` lists the faults and how
often each struck; `DELETE` clears them. A rule is checked whole when it arrives (`fault_rule`):
one with an unknown key, a value of the wrong type or out of range, or a malformed target is
refused with 400 saying what is wrong, and changes nothing.

`Faults.handle` is the switch every request to moto passes through (see `__main__`).
"""

import io
import json
import math
import re
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable
from typing import Any, NoReturn, TypeGuard
from wsgiref.types import StartResponse, WSGIEnvironment

# What a fault rule may say (see the module's docstring).
FAULT_KEYS = ("target", "mode", "seconds", "delay", "count")
# `service:Operation` (the service as requests are signed for it, the operation as the API names
# it, or S3's HTTP method, or `*`), a bare service, or `mysql`.
FAULT_TARGET = re.compile(r"[a-z][a-z0-9-]*(?::(?:\*|[A-Z][A-Za-z0-9]*))?")
# The longest delay a rule may ask for: as long as a Lambda may run. A longer one holds the
# delayed call's server thread past anything a client waits for.
MAX_FAULT_DELAY_SECONDS = 900


def is_number(value: object) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def fault_rule(rule: object) -> dict[str, Any]:
    """The fault `rule` (a decoded JSON body) asks for, checked whole, as the fields `Faults.add`
    keeps; or ValueError naming everything that is wrong with it."""
    if not isinstance(rule, dict):
        raise ValueError(
            'a fault is a JSON object, such as {"target": "dynamodb:PutItem", "mode": "error", "seconds": 5}'
        )
    problems = [f"unknown key `{key}` (a fault has {', '.join(FAULT_KEYS)})" for key in rule if key not in FAULT_KEYS]
    target = rule.get("target")
    if not isinstance(target, str) or not FAULT_TARGET.fullmatch(target):
        problems.append(
            f"`target` is {json.dumps(target)}; it must be `service:Operation` "
            "(`dynamodb:PutItem`, `s3:PUT`, `sns:*`), a service, or `mysql`"
        )
    mode = rule.get("mode", "error")
    if mode not in ("error", "delay"):
        problems.append(f"`mode` is {json.dumps(mode)}; it must be `error` or `delay`")
    seconds = rule.get("seconds")
    if seconds is not None and not (is_number(seconds) and seconds > 0):
        problems.append(f"`seconds` is {json.dumps(seconds)}; it must be a number above 0")
    count = rule.get("count")
    if count is not None and not (isinstance(count, int) and not isinstance(count, bool) and count >= 1):
        problems.append(f"`count` is {json.dumps(count)}; it must be a whole number of at least 1")
    delay = rule.get("delay")
    if (mode == "delay" or delay is not None) and not (is_number(delay) and 0 < delay <= MAX_FAULT_DELAY_SECONDS):
        needs = "a delay fault needs one" if mode == "delay" else "an error fault may have one (it then fails slowly)"
        problems.append(
            f"`delay` is {json.dumps(delay)}; {needs}, in seconds, above 0 and at most {MAX_FAULT_DELAY_SECONDS}"
        )
    if problems:
        raise ValueError("; ".join(problems))
    return {
        "target": target,
        "mode": mode,
        "delay": float(delay or 0),
        "seconds": None if seconds is None else float(seconds),
        "count": count,
    }


def refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a number JSON allows")


class Faults:
    """The faults in force: target → rule. Checked on every request and every MySQL connection."""

    PATH = "/_cafe/faults"

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.rules: dict[str, dict[str, Any]] = {}
        self.on_mysql_fault: Callable[[], None] = lambda: None

    def add(self, rule: object) -> None:
        rule = fault_rule(rule)
        target, seconds = rule["target"], rule.pop("seconds")
        until = time.monotonic() + seconds if seconds is not None else None
        with self.lock:
            self.rules[target] = {**rule, "until": until, "hits": 0}
        if target == "mysql":
            self.on_mysql_fault()

    def clear(self) -> None:
        with self.lock:
            self.rules.clear()

    def listing(self) -> list[dict[str, Any]]:
        now = time.monotonic()
        with self.lock:
            return [
                {**rule, "until": None if rule["until"] is None else round(rule["until"] - now, 3)}
                for rule in self.rules.values()
            ]

    def strike(self, service: str, operation: str | None) -> dict[str, Any] | None:
        """The rule that applies to this call, counted, or None."""
        now = time.monotonic()
        with self.lock:
            for target in (f"{service}:{operation}", f"{service}:*", service):
                rule = self.rules.get(target)
                if (
                    rule
                    and (rule["until"] is None or now < rule["until"])
                    and (rule["count"] is None or rule["hits"] < rule["count"])
                ):
                    rule["hits"] += 1
                    return dict(rule)
        return None

    def handle(
        self, environ: WSGIEnvironment, start_response: StartResponse, forward: Callable[[], Iterable[bytes]]
    ) -> Iterable[bytes]:
        """A WSGI request: the control API, an injected fault, or `forward()` to moto."""
        if environ.get("PATH_INFO") == self.PATH:
            return self.control(environ, start_response)
        service, operation = self.identify(environ)
        rule = self.strike(service, operation) if service else None
        if rule and rule["delay"]:
            time.sleep(rule["delay"])
        if rule and rule["mode"] == "error":
            # A 503 is what an AWS service says when it is down; the SDKs retry it, then give up.
            if "json" in (environ.get("CONTENT_TYPE") or ""):
                content_type = "application/x-amz-json-1.0"
                body = json.dumps(
                    {"__type": "ServiceUnavailable", "message": f"fault injected: {service}:{operation}"}
                ).encode()
            else:
                content_type = "text/xml"
                error = (
                    f"<Error><Type>Receiver</Type><Code>ServiceUnavailable</Code>"
                    f"<Message>fault injected: {service}:{operation}</Message></Error>"
                )
                # S3 answers with a bare <Error>; the query protocols (SNS, …) wrap it.
                body = (error if service == "s3" else f"<ErrorResponse>{error}</ErrorResponse>").encode()
            start_response(
                "503 Service Unavailable",
                [
                    ("Content-Type", content_type),
                    ("x-amzn-ErrorType", "ServiceUnavailable"),
                    ("Content-Length", str(len(body))),
                ],
            )
            return [body]
        return forward()

    @staticmethod
    def identify(environ: WSGIEnvironment) -> tuple[str | None, str | None]:
        """(service, operation) of an AWS request, from its signature and target or action."""
        authorization = environ.get("HTTP_AUTHORIZATION", "")
        scope = authorization.split("Credential=", 1)[-1].split(",", 1)[0].split("/")
        if len(scope) < 4:
            return None, None
        service = scope[3]
        target = environ.get("HTTP_X_AMZ_TARGET")
        if target:
            # DynamoDB Streams is signed as `dynamodb`; its target names it, so a fault can fail
            # the stream's reads without failing the table's writes, or the other way round.
            if target.startswith("DynamoDBStreams_"):
                service = "dynamodbstreams"
            return service, target.rsplit(".", 1)[-1]
        if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length)
            environ["wsgi.input"] = io.BytesIO(body)  # put back for moto
            action = urllib.parse.parse_qs(body.decode("utf-8", "replace")).get("Action")
            if action:
                return service, action[0]
        return service, environ.get("REQUEST_METHOD")

    def control(self, environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
        method = environ.get("REQUEST_METHOD")
        status = "200 OK"
        try:
            if method == "POST":
                length = int(environ.get("CONTENT_LENGTH") or 0)
                body = environ["wsgi.input"].read(length) or b"{}"
                self.add(json.loads(body, parse_constant=refuse_constant))
            elif method == "DELETE":
                self.clear()
            answer: dict[str, object] = {"faults": self.listing()}
        except (ValueError, TypeError) as e:
            status, answer = "400 Bad Request", {"error": str(e)}
        body = json.dumps(answer).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]
