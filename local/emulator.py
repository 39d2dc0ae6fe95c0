#!/usr/bin/env python3
"""The café's AWS on this machine: moto in server mode on 127.0.0.1:4566 (MOTO_PORT), with every
resource both pipelines use created in it under the names the deployed stack uses.

Two things moto cannot do without Docker are done here instead:
- Lambda: moto's `invoke` is replaced by a call to the real function over the Lambda Invoke API
  of `cargo lambda watch` (LAMBDA_ENDPOINT), with function errors passed back as Lambda does, so
  the state machine's Retry and Catch rules see the function's own error names.
- Email: what an `email` subscriber of a topic would receive is appended, one JSON object per
  line, to MAILBOX_FILE, which the gateway serves as GET /mailbox.

And one thing for the fault tests (`make test-faults`): faults injected on request.
- `POST /_cafe/faults` with `{"target": "dynamodb:PutItem", "mode": "error", "seconds": 5}` makes
  that operation fail with a 503 for 5 seconds (`"mode": "delay", "delay": 3` delays it instead;
  `"count": 2` limits the fault to the first two calls).
  A target is `service:Operation` (`sns:PublishBatch`, `dynamodb:*` for the tables,
  `dynamodbstreams:GetRecords` for their streams; S3 operations are named by HTTP method,
  `s3:PUT`), or `mysql`: the functions reach MySQL through a relay here
  (127.0.0.1:MYSQL_RELAY_PORT → MYSQL_UPSTREAM), and a `mysql` fault closes every connection
  through it and refuses new ones. `GET` lists the faults and how often each struck; `DELETE`
  clears them. A rule is checked whole when it arrives (`fault_rule`): one with an unknown key, a
  value of the wrong type or out of range, or a malformed target is refused with 400 saying
  what is wrong, and changes nothing.

Two moto defects worked around: concurrent writes to a table could give two stream records the
same sequence number (see `patch_stream_sequence_numbers`), and two conditional PutItems of one
key served at once could both succeed (see `patch_put_item`).

And what a server on a developer's machine needs: only loopback Host names are answered (see
`is_loopback_host`), moto's permissive CORS is off, so no web page can read what the emulator
answers, and a client that stops sending is cut off (`READ_TIMEOUT_SECONDS`).

Run by the local stack (local/stack.py); stops on Ctrl-C or SIGTERM. Nothing is kept between runs.
"""

import io
import json
import logging
import math
import os
import re
import select
import signal
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

HOST = "127.0.0.1"
PORT = int(os.environ.get("MOTO_PORT") or "4566")
# How long the server waits on any one read from a client (the request line, a header, a piece of
# the body) before it drops the connection. The SDKs send a request at once; without a bound, a
# client that stops sending, or sends a byte now and then, holds a server thread for ever.
# Werkzeug closes every connection after its response, so no idle kept-alive connection is cut.
READ_TIMEOUT_SECONDS = 10
# The state machine interpreter calls Lambda at http://localhost:$MOTO_PORT.
os.environ["MOTO_PORT"] = str(PORT)
REGION = os.environ.get("AWS_REGION") or "us-east-1"
ACCOUNT = "123456789012"


def setting(name, default):
    return os.environ.get(name) or default


ROOT = Path(__file__).resolve().parent.parent
LAMBDA_ENDPOINT = setting("LAMBDA_ENDPOINT", "http://127.0.0.1:9000")
MAILBOX_FILE = Path(setting("MAILBOX_FILE", str(ROOT / ".local" / "mailbox.jsonl")))
# Written once every resource exists, so whoever waits on it can start using them.
READY_FILE = Path(setting("EMULATOR_READY_FILE", str(ROOT / ".local" / "emulator.json")))
ORDERS_TABLE = setting("ORDERS_TABLE", "orders")
ORDERS_QUEUE = setting("ORDERS_QUEUE", "orders-queue")
ORDERS_DLQ = setting("ORDERS_DLQ", "orders-dlq")
NOTIFIER_FAILURES_QUEUE = setting("NOTIFIER_FAILURES_QUEUE", "notifier-failures")
ORDER_TOPIC = setting("ORDER_TOPIC", "OrderNotifications")
REPORT_TOPIC = setting("REPORT_TOPIC", "EmailReport")
REPORTS_BUCKET = setting("REPORTS_BUCKET", "cafe-reports")
STATE_MACHINE = setting("STATE_MACHINE", "InventoryReport")
ORDERS_EMAIL = setting("ORDERS_EMAIL", "orders@cafe.example")
MANAGER_EMAIL = setting("MANAGER_EMAIL", "manager@cafe.example")
# A message that fails this many receives is moved to the DLQ.
MAX_RECEIVE_COUNT = 3
MYSQL_RELAY_PORT = int(setting("MYSQL_RELAY_PORT", "4510"))
MYSQL_UPSTREAM = setting("MYSQL_UPSTREAM", "127.0.0.1:3306")
FUNCTIONS = ["order-writer", "order-notifier", "inventory-reader", "report-renderer", "report-mailer"]
# The state machine's ${…} placeholders, as SAM's DefinitionSubstitutions fill them.
SUBSTITUTIONS = {
    "InventoryReaderArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:inventory-reader",
    "ReportRendererArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:report-renderer",
    "ReportMailerArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:report-mailer",
    "ReportTopicArn": f"arn:aws:sns:{REGION}:{ACCOUNT}:{REPORT_TOPIC}",
}


def invoke_real_function(self, function_name, qualifier, body, headers, response_headers):
    """LambdaBackend.invoke: run the real function under `cargo lambda watch`."""
    function = self.get_function(function_name, qualifier)  # unknown names fail as Lambda does
    url = f"{LAMBDA_ENDPOINT}/2015-03-31/functions/{function.function_name}/invocations"
    data = body if isinstance(body, bytes) else (body or "{}").encode()
    request = urllib.request.Request(url, data=data, method="POST")
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=900) as response:
            payload, error = response.read(), response.headers.get("X-Amz-Function-Error")
    except urllib.error.HTTPError as failure:
        payload, error = failure.read(), failure.headers.get("X-Amz-Function-Error") or "Unhandled"
    if error:
        response_headers["x-amz-function-error"] = error
    response_headers["Content-Length"] = str(len(payload))
    return payload


_mailbox_lock = threading.Lock()


def patch_email_delivery(subscription_class):
    deliver = subscription_class.publish

    def publish(self, message, message_id, subject=None, message_attributes=None,
                group_id=None, deduplication_id=None, message_structure=None):
        deliver(self, message, message_id, subject=subject, message_attributes=message_attributes,
                group_id=group_id, deduplication_id=deduplication_id,
                message_structure=message_structure)
        if self.protocol != "email":
            return
        matcher = self._filter_policy_matcher
        if matcher is not None and not matcher.matches(message_attributes, message):
            return
        if message_structure == "json":
            message = self._parse_message_structure(message, "email")
        letter = {
            "topic": self.topic.name,
            "to": self.endpoint,
            "subject": subject or "",
            "body": message,
            "timestamp": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
            "messageId": message_id,
        }
        with _mailbox_lock, MAILBOX_FILE.open("a", encoding="utf-8") as mailbox:
            mailbox.write(json.dumps(letter, ensure_ascii=False) + "\n")

    subscription_class.publish = publish


def patch_stream_sequence_numbers(shard_class):
    """moto 5.2.5's StreamShard.add numbers a record `len(items) + start` and appends it without a
    lock, and building the record between the two takes long enough for another write's thread
    to read the same length: two records share a number and the next number is skipped. `get` finds
    records by position (number − start), so an AFTER_SEQUENCE_NUMBER iterator past the shared
    number lands on the second of the two again, and whoever follows the stream reads that
    record once more on every poll. Numbering and appending under one lock keeps every number
    unique, increasing and equal to position + start."""
    add = shard_class.add
    lock = threading.Lock()

    def add_in_turn(self, old, new):
        with lock:
            add(self, old, new)

    shard_class.add = add_in_turn


def patch_put_item(table_class):
    """moto 5.2.5's Table.put_item reads the key's current item, evaluates the condition on it and
    then stores the new item, with no lock: two PutItems of one key with
    `attribute_not_exists(orderID)` served at once can both find no item and both succeed (200
    concurrent writers on the same 200 keys: 212 successes). DynamoDB evaluates a condition and
    writes atomically, and the order-writer's exactly-once relies on it, so puts go one at a time.
    (The stream's own lock, taken inside this one, is never taken the other way round.)"""
    put = table_class.put_item
    lock = threading.Lock()

    def put_in_turn(self, *args, **kwargs):
        with lock:
            return put(self, *args, **kwargs)

    table_class.put_item = put_in_turn


# Host names a request may carry: this machine's loopback names, with any port. A web page can make
# a browser send requests here by giving its own name a loopback address (DNS rebinding); the
# browser then lets the page read the answers (queues, the table, the reports) as its own. Those
# requests carry the page's name. Names under `localhost` are loopback too (browsers never ask DNS
# for them), and S3's virtual-hosted style sends `bucket.localhost` to an endpoint on localhost;
# the café's clients use path style and 127.0.0.1, moto's Step Functions calls localhost.
_HOST = re.compile(r"(?:\[(?P<address>[0-9A-Fa-f:.]+)\]|(?P<name>[A-Za-z0-9.-]+))(?::[0-9]*)?")


def is_loopback_host(host):
    """Whether `host`, a Host header, names this machine by a loopback name: localhost (or a name
    under it), 127.0.0.1 or [::1], with any port or none."""
    match = _HOST.fullmatch(host or "")
    if not match:
        return False
    if match["address"] is not None:
        return match["address"] == "::1"
    name = match["name"].lower()
    return name in ("localhost", "127.0.0.1") or name.endswith(".localhost")


def is_loopback_origin(origin):
    """Whether an Origin header names a page served from this machine."""
    _, separator, host = (origin or "").partition("://")
    return bool(separator) and is_loopback_host(host)


def loopback_only(environ, start_response, forward):
    """A WSGI request: refused with 421 unless its Host is a loopback name, and with 403 when a
    page elsewhere made the browser send it (its Origin names that page: moto takes unsigned
    form-encoded calls, which a page can send without a preflight); else `forward()`."""
    host, origin = environ.get("HTTP_HOST"), environ.get("HTTP_ORIGIN")
    if origin is not None and not is_loopback_origin(origin):
        status, error = "403 Forbidden", ("this local AWS emulator answers only pages served from "
                                          f"this machine; the Origin here is {origin}")
    elif not is_loopback_host(host):
        named = f"`{host}`" if host else "none"
        status, error = "421 Misdirected Request", ("this local AWS emulator answers only requests "
                                                    "for localhost, 127.0.0.1 or [::1] (any port); "
                                                    f"the Host here is {named}")
    else:
        return forward()
    body = json.dumps({"error": error}).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


# What a fault rule may say (see the module's docstring).
FAULT_KEYS = ("target", "mode", "seconds", "delay", "count")
# `service:Operation` (the service as requests are signed for it, the operation as the API names
# it, or S3's HTTP method, or `*`), a bare service, or `mysql`.
FAULT_TARGET = re.compile(r"[a-z][a-z0-9-]*(?::(?:\*|[A-Z][A-Za-z0-9]*))?")
# The longest delay a rule may ask for: as long as a Lambda may run. A longer one holds the
# delayed call's server thread past anything a client waits for.
MAX_FAULT_DELAY_SECONDS = 900


def is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def fault_rule(rule):
    """The fault `rule` (a decoded JSON body) asks for, checked whole, as the fields `Faults.add`
    keeps; or ValueError naming everything that is wrong with it."""
    if not isinstance(rule, dict):
        raise ValueError('a fault is a JSON object, such as {"target": "dynamodb:PutItem", '
                         '"mode": "error", "seconds": 5}')
    problems = [f"unknown key `{key}` (a fault has {', '.join(FAULT_KEYS)})"
                for key in rule if key not in FAULT_KEYS]
    target = rule.get("target")
    if not isinstance(target, str) or not FAULT_TARGET.fullmatch(target):
        problems.append(f"`target` is {json.dumps(target)}; it must be `service:Operation` "
                        "(`dynamodb:PutItem`, `s3:PUT`, `sns:*`), a service, or `mysql`")
    mode = rule.get("mode", "error")
    if mode not in ("error", "delay"):
        problems.append(f"`mode` is {json.dumps(mode)}; it must be `error` or `delay`")
    seconds = rule.get("seconds")
    if seconds is not None and not (is_number(seconds) and seconds > 0):
        problems.append(f"`seconds` is {json.dumps(seconds)}; it must be a number above 0")
    count = rule.get("count")
    if count is not None and not (isinstance(count, int) and not isinstance(count, bool)
                                  and count >= 1):
        problems.append(f"`count` is {json.dumps(count)}; it must be a whole number of at least 1")
    delay = rule.get("delay")
    if mode == "delay" and not (is_number(delay) and 0 < delay <= MAX_FAULT_DELAY_SECONDS):
        problems.append(f"`delay` is {json.dumps(delay)}; a delay fault needs one, in seconds, "
                        f"above 0 and at most {MAX_FAULT_DELAY_SECONDS}")
    if mode == "error" and delay is not None:
        problems.append("`delay` is only for `\"mode\": \"delay\"`")
    if problems:
        raise ValueError("; ".join(problems))
    return {"target": target, "mode": mode, "delay": float(delay or 0),
            "seconds": None if seconds is None else float(seconds), "count": count}


def refuse_constant(name):
    raise ValueError(f"{name} is not a number JSON allows")


class Faults:
    """The faults in force: target → rule. Checked on every request and every MySQL connection."""

    PATH = "/_cafe/faults"

    def __init__(self):
        self.lock = threading.Lock()
        self.rules = {}
        self.on_mysql_fault = lambda: None

    def add(self, rule):
        rule = fault_rule(rule)
        target, seconds = rule["target"], rule.pop("seconds")
        until = time.monotonic() + seconds if seconds is not None else None
        with self.lock:
            self.rules[target] = {**rule, "until": until, "hits": 0}
        if target == "mysql":
            self.on_mysql_fault()

    def clear(self):
        with self.lock:
            self.rules.clear()

    def listing(self):
        now = time.monotonic()
        with self.lock:
            return [{**rule, "until": None if rule["until"] is None else round(rule["until"] - now, 3)}
                    for rule in self.rules.values()]

    def strike(self, service, operation):
        """The rule that applies to this call, counted, or None."""
        now = time.monotonic()
        with self.lock:
            for target in (f"{service}:{operation}", f"{service}:*", service):
                rule = self.rules.get(target)
                if (rule and (rule["until"] is None or now < rule["until"])
                        and (rule["count"] is None or rule["hits"] < rule["count"])):
                    rule["hits"] += 1
                    return dict(rule)
        return None

    def handle(self, environ, start_response, forward):
        """A WSGI request: the control API, an injected fault, or `forward()` to moto."""
        if environ.get("PATH_INFO") == self.PATH:
            return self.control(environ, start_response)
        service, operation = self.identify(environ)
        rule = self.strike(service, operation) if service else None
        if rule and rule["mode"] == "delay":
            time.sleep(rule["delay"])
        elif rule:
            # A 503 is what an AWS service says when it is down; the SDKs retry it, then give up.
            if "json" in (environ.get("CONTENT_TYPE") or ""):
                content_type = "application/x-amz-json-1.0"
                body = json.dumps({"__type": "ServiceUnavailable",
                                   "message": f"fault injected: {service}:{operation}"}).encode()
            else:
                content_type = "text/xml"
                error = (f"<Error><Type>Receiver</Type><Code>ServiceUnavailable</Code>"
                         f"<Message>fault injected: {service}:{operation}</Message></Error>")
                # S3 answers with a bare <Error>; the query protocols (SNS, …) wrap it.
                body = (error if service == "s3" else f"<ErrorResponse>{error}</ErrorResponse>").encode()
            start_response("503 Service Unavailable", [("Content-Type", content_type),
                                                       ("x-amzn-ErrorType", "ServiceUnavailable"),
                                                       ("Content-Length", str(len(body)))])
            return [body]
        return forward()

    @staticmethod
    def identify(environ):
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

    def control(self, environ, start_response):
        method = environ.get("REQUEST_METHOD")
        status = "200 OK"
        try:
            if method == "POST":
                length = int(environ.get("CONTENT_LENGTH") or 0)
                body = environ["wsgi.input"].read(length) or b"{}"
                self.add(json.loads(body, parse_constant=refuse_constant))
            elif method == "DELETE":
                self.clear()
            answer = {"faults": self.listing()}
        except (ValueError, TypeError) as e:
            status, answer = "400 Bad Request", {"error": str(e)}
        body = json.dumps(answer).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]


class MysqlRelay:
    """Forwards TCP connections to MySQL, so a `mysql` fault can cut the database off."""

    def __init__(self, faults, port, upstream):
        self.faults, self.upstream = faults, upstream
        self.open = set()
        self.lock = threading.Lock()
        self.listener = socket.create_server(("127.0.0.1", port))
        faults.on_mysql_fault = self.cut

    def serve(self):
        while True:
            client, _ = self.listener.accept()
            if self.faults.strike("mysql", None):
                client.close()
                continue
            threading.Thread(target=self.pipe, args=(client,), daemon=True).start()

    def pipe(self, client):
        host, port = self.upstream.rsplit(":", 1)
        try:
            server = socket.create_connection((host, int(port)), timeout=5)
        except OSError:
            client.close()
            return
        server.settimeout(None)
        with self.lock:
            self.open.update((client, server))
        try:
            while True:
                readable, _, _ = select.select([client, server], [], [])
                for source in readable:
                    data = source.recv(65536)
                    if not data:
                        return
                    (server if source is client else client).sendall(data)
        except OSError:
            pass
        finally:
            with self.lock:
                self.open.difference_update((client, server))
            client.close()
            server.close()

    def cut(self):
        with self.lock:
            for connection in self.open:
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def provision(endpoint):
    import boto3

    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )
    client = lambda service: session.client(service, endpoint_url=endpoint)  # noqa: E731
    sqs, dynamodb, sns, s3 = (client(s) for s in ("sqs", "dynamodb", "sns", "s3"))
    iam, lam, sfn = (client(s) for s in ("iam", "lambda", "stepfunctions"))

    dlq_url = sqs.create_queue(QueueName=ORDERS_DLQ)["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVE_COUNT)}
    sqs.create_queue(
        QueueName=ORDERS_QUEUE,
        Attributes={"VisibilityTimeout": "30", "RedrivePolicy": json.dumps(redrive)},
    )

    sqs.create_queue(QueueName=NOTIFIER_FAILURES_QUEUE)

    dynamodb.create_table(
        TableName=ORDERS_TABLE,
        AttributeDefinitions=[{"AttributeName": "orderID", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "orderID", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )

    topics = {name: sns.create_topic(Name=name)["TopicArn"] for name in (ORDER_TOPIC, REPORT_TOPIC)}
    sns.subscribe(TopicArn=topics[ORDER_TOPIC], Protocol="email", Endpoint=ORDERS_EMAIL)
    sns.subscribe(TopicArn=topics[REPORT_TOPIC], Protocol="email", Endpoint=MANAGER_EMAIL)
    s3.create_bucket(Bucket=REPORTS_BUCKET)

    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
             "Principal": {"Service": ["lambda.amazonaws.com", "states.amazonaws.com"]}}]}
    role = iam.create_role(RoleName="cafe-local", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    for name in FUNCTIONS:
        # The code lives with `cargo lambda watch`; moto only needs the registration.
        lam.create_function(FunctionName=name, Runtime="provided.al2023", Role=role["Arn"],
                            Handler="bootstrap", Code={"ZipFile": b"served by cargo lambda watch"})

    definition = (ROOT / "statemachine" / "report.asl.json").read_text(encoding="utf-8")
    for name, value in SUBSTITUTIONS.items():
        definition = definition.replace("${" + name + "}", value)
    machine = sfn.create_state_machine(name=STATE_MACHINE, definition=definition, roleArn=role["Arn"])
    return {
        "queue": ORDERS_QUEUE,
        "dlq": ORDERS_DLQ,
        "notifierFailures": NOTIFIER_FAILURES_QUEUE,
        "table": ORDERS_TABLE,
        "topics": topics,
        "bucket": REPORTS_BUCKET,
        "stateMachine": machine["stateMachineArn"],
        "functions": FUNCTIONS,
    }


def main():
    from moto.awslambda.models import LambdaBackend
    from moto.awslambda_simple.models import LambdaSimpleBackend
    from moto.core.config import default_user_config
    from moto.dynamodb.models.table import StreamShard, Table
    from moto.moto_server import werkzeug_app
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler
    from moto.server import ThreadedMotoServer
    from moto.sns.models import Subscription

    default_user_config["lambda"] = {"use_docker": False}
    default_user_config["stepfunctions"] = {"execute_state_machine": True}
    # Without Docker moto uses LambdaSimpleBackend, which echoes its input; replace both.
    LambdaBackend.invoke = LambdaSimpleBackend.invoke = invoke_real_function
    patch_email_delivery(Subscription)
    patch_stream_sequence_numbers(StreamShard)
    patch_put_item(Table)
    # moto wraps each service's app in flask_cors's CORS(), which answers any Origin with
    # `Access-Control-Allow-Origin` (and every preflight with yes), so any web page could read
    # what the emulator answers. It reads this flag when it builds a service's app, on that
    # service's first request (MOTO_DISABLE_GLOBAL_CORS, read when moto is imported, sets it too).
    # S3 still answers as a bucket's own CORS rules say; the café's bucket has none.
    werkzeug_app.DISABLE_GLOBAL_CORS = True
    MotoRequestHandler.timeout = READ_TIMEOUT_SECONDS  # socketserver sets it on each connection
    MAILBOX_FILE.parent.mkdir(parents=True, exist_ok=True)
    MAILBOX_FILE.write_text("", encoding="utf-8")
    READY_FILE.unlink(missing_ok=True)

    faults = Faults()
    dispatch = DomainDispatcherApplication.__call__

    def dispatch_unless_faulted(self, environ, start_response):
        return loopback_only(environ, start_response, lambda: faults.handle(
            environ, start_response, lambda: dispatch(self, environ, start_response)))

    DomainDispatcherApplication.__call__ = dispatch_unless_faulted
    relay = MysqlRelay(faults, MYSQL_RELAY_PORT, MYSQL_UPSTREAM)
    threading.Thread(target=relay.serve, daemon=True).start()

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    server = ThreadedMotoServer(ip_address=HOST, port=PORT, verbose=False)
    server.start()
    endpoint = f"http://{HOST}:{PORT}"
    resources = provision(endpoint)
    print(f"AWS emulator at {endpoint} with {json.dumps(resources)}; MySQL relay at "
          f"127.0.0.1:{MYSQL_RELAY_PORT} → {MYSQL_UPSTREAM}", flush=True)
    READY_FILE.parent.mkdir(parents=True, exist_ok=True)
    READY_FILE.write_text(json.dumps(resources), encoding="utf-8")

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    READY_FILE.unlink(missing_ok=True)
    server.stop()


if __name__ == "__main__":
    main()
