"""What is changed in moto 5.2.5, all applied by `install` before the server starts.

Two things moto cannot do without Docker are done here instead:
- Lambda: moto's `invoke` is replaced by a call to the real function over the Lambda Invoke API
  of `cargo lambda watch` (LAMBDA_ENDPOINT), with function errors passed back as Lambda does, so
  the state machine's Retry and Catch rules see the function's own error names.
- Email: what an `email` subscriber of a topic would receive is appended, one JSON object per
  line, to MAILBOX_FILE, which the gateway serves as GET /mailbox.

Two moto defects worked around: concurrent writes to a table could give two stream records the
same sequence number (see `patch_stream_sequence_numbers`), and two conditional PutItems of one
key served at once could both succeed (see `patch_put_item`).

And what a server on a developer's machine needs: moto's permissive CORS is off, so no web page
can read what the emulator answers, and a client that stops sending is cut off
(`READ_TIMEOUT_SECONDS`). `put_in_front` puts the emulator's own handling (see `guard` and
`faults`) before moto's on every request.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from wsgiref.types import StartResponse, WSGIEnvironment

if TYPE_CHECKING:  # moto is imported when the patches are installed, not with this module
    from moto.awslambda.models import LambdaBackend
    from moto.dynamodb.models.dynamo_type import Item
    from moto.dynamodb.models.table import StreamShard, Table
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication
    from moto.sns.models import Subscription


# How long the server waits on any one read from a client (the request line, a header, a piece of
# the body) before it drops the connection. The SDKs send a request at once; without a bound, a
# client that stops sending, or sends a byte now and then, holds a server thread for ever.
# Werkzeug closes every connection after its response, so no idle kept-alive connection is cut.
READ_TIMEOUT_SECONDS = 10


def install(lambda_endpoint: str, mailbox_file: Path) -> None:
    """Applies every patch: Lambda calls go to `lambda_endpoint`, letters to `mailbox_file`."""
    from moto.awslambda.models import LambdaBackend
    from moto.awslambda_simple.models import LambdaSimpleBackend
    from moto.core.config import default_user_config
    from moto.dynamodb.models.table import StreamShard, Table
    from moto.moto_server import werkzeug_app
    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from moto.sns.models import Subscription

    default_user_config["lambda"] = {"use_docker": False}
    default_user_config["stepfunctions"] = {"execute_state_machine": True}
    # Without Docker moto uses LambdaSimpleBackend, which echoes its input; replace both.
    # (Ignored for mypy: patching moto's method is the point, and mypy reads it as taking `self` twice.)
    LambdaBackend.invoke = LambdaSimpleBackend.invoke = real_function_invoke(lambda_endpoint)  # type: ignore[method-assign, assignment]
    patch_email_delivery(Subscription, mailbox_file)
    patch_stream_sequence_numbers(StreamShard)
    patch_put_item(Table)  # type: ignore[type-abstract]  # moto's Table is abstract to mypy; only patched here
    patch_fail_state_error_names()
    # moto wraps each service's app in flask_cors's CORS(), which answers any Origin with
    # `Access-Control-Allow-Origin` (and every preflight with yes), so any web page could read
    # what the emulator answers. It reads this flag when it builds a service's app, on that
    # service's first request (MOTO_DISABLE_GLOBAL_CORS, read when moto is imported, sets it too).
    # S3 still answers as a bucket's own CORS rules say; the café's bucket has none.
    werkzeug_app.DISABLE_GLOBAL_CORS = True
    MotoRequestHandler.timeout = READ_TIMEOUT_SECONDS  # socketserver sets it on each connection


def put_in_front(
    handle: Callable[[WSGIEnvironment, StartResponse, Callable[[], Iterable[bytes]]], Iterable[bytes]],
) -> None:
    """Makes every request to moto's server a call `handle(environ, start_response, forward)`,
    where `forward()` hands the request on to moto."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    dispatch = DomainDispatcherApplication.__call__

    def handle_first(
        self: DomainDispatcherApplication, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        return handle(environ, start_response, lambda: dispatch(self, environ, start_response))

    DomainDispatcherApplication.__call__ = handle_first  # type: ignore[method-assign]  # patching moto's method is the point


# What moto 5 lacks and answers with a 500 its clients retry: answered as AWS answers an
# operation a queue does not support, so a caller can tell and do without (`make
# redrive-orders` then moves the messages itself).
UNSUPPORTED_TARGETS = {
    "AmazonSQS.StartMessageMoveTask",
    "AmazonSQS.ListMessageMoveTasks",
    "AmazonSQS.CancelMessageMoveTask",
}


def refuse_unsupported(
    environ: WSGIEnvironment, start_response: StartResponse, forward: Callable[[], Iterable[bytes]]
) -> Iterable[bytes]:
    """A request for one of `UNSUPPORTED_TARGETS` gets SQS's `UnsupportedOperation` (400); any
    other goes on to `forward()`."""
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target not in UNSUPPORTED_TARGETS:
        return forward()
    body = json.dumps(
        {
            "__type": "com.amazonaws.sqs#UnsupportedOperation",
            "message": f"{target.split('.')[-1]} is not supported by the local emulator",
        }
    ).encode()
    start_response(
        "400 Bad Request",
        [
            ("Content-Type", "application/x-amz-json-1.0"),
            ("x-amzn-query-error", "AWS.SimpleQueueService.UnsupportedOperation;Sender"),
            ("Content-Length", str(len(body))),
        ],
    )
    return [body]


def real_function_invoke(lambda_endpoint: str) -> Callable[[LambdaBackend, str, str | None, Any, Any, Any], bytes]:
    """A LambdaBackend.invoke that runs the real function under `cargo lambda watch` at
    `lambda_endpoint`."""

    def invoke_real_function(
        self: LambdaBackend, function_name: str, qualifier: str | None, body: Any, headers: Any, response_headers: Any
    ) -> bytes:
        function = self.get_function(function_name, qualifier)  # unknown names fail as Lambda does
        url = f"{lambda_endpoint}/2015-03-31/functions/{function.function_name}/invocations"
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

    return invoke_real_function


_mailbox_lock = threading.Lock()


def patch_email_delivery(subscription_class: type[Subscription], mailbox_file: Path) -> None:
    """Subscription.publish as moto does it, and what an `email` subscriber receives appended to
    `mailbox_file`, as the gateway's GET /mailbox reads it."""
    deliver = subscription_class.publish

    def publish(
        self: Subscription,
        message: str,
        message_id: str,
        subject: str | None = None,
        message_attributes: dict[str, Any] | None = None,
        group_id: str | None = None,
        deduplication_id: str | None = None,
        message_structure: str | None = None,
    ) -> None:
        deliver(
            self,
            message,
            message_id,
            subject=subject,
            message_attributes=message_attributes,
            group_id=group_id,
            deduplication_id=deduplication_id,
            message_structure=message_structure,
        )
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
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "messageId": message_id,
        }
        with _mailbox_lock, mailbox_file.open("a", encoding="utf-8") as mailbox:
            mailbox.write(json.dumps(letter, ensure_ascii=False) + "\n")

    subscription_class.publish = publish  # type: ignore[method-assign]  # patching moto's method is the point


def patch_stream_sequence_numbers(shard_class: type[StreamShard]) -> None:
    """moto 5.2.5's StreamShard.add numbers a record `len(items) + start` and appends it without a
    lock, and building the record between the two takes long enough for another write's thread
    to read the same length: two records share a number and the next number is skipped. `get` finds
    records by position (number - start), so an AFTER_SEQUENCE_NUMBER iterator past the shared
    number lands on the second of the two again, and whoever follows the stream reads that
    record once more on every poll. Numbering and appending under one lock keeps every number
    unique, increasing and equal to position + start."""
    add = shard_class.add
    lock = threading.Lock()

    def add_in_turn(self: StreamShard, old: Item | None, new: Item | None) -> None:
        with lock:
            add(self, old, new)

    shard_class.add = add_in_turn  # type: ignore[method-assign]  # patching moto's method is the point


def patch_fail_state_error_names() -> None:
    """A Fail state ends the execution with the error it is given, a `States.*` one included: the
    report's `ReportFailed` passes on what its Catch caught, such as a Task's `States.Timeout`.
    moto 5 builds that name as a custom error name, which must not begin with `States.`, and so
    failed the execution with `States.Runtime` (a ValueError) instead of the Task's error."""
    from moto.stepfunctions.parser.asl.component.common.error_name.error_name import ErrorName
    from moto.stepfunctions.parser.asl.component.state.fail import state_fail

    class FailStateErrorName(ErrorName):
        def __init__(self, error_name: str | None) -> None:
            super().__init__(error_name=error_name)

    state_fail.CustomErrorName = FailStateErrorName  # type: ignore[misc, assignment]  # replacing moto's class is the point


def patch_put_item(table_class: type[Table]) -> None:
    """moto 5.2.5's Table.put_item reads the key's current item, evaluates the condition on it and
    then stores the new item, with no lock: two PutItems of one key with
    `attribute_not_exists(orderID)` served at once can both find no item and both succeed (200
    concurrent writers on the same 200 keys: 212 successes). DynamoDB evaluates a condition and
    writes atomically, and the order-writer's exactly-once relies on it, so puts go one at a time.
    (The stream's own lock, taken inside this one, is never taken the other way round.)"""
    put = table_class.put_item
    lock = threading.Lock()

    def put_in_turn(self: Table, *args: Any, **kwargs: Any) -> Item:
        with lock:
            return put(self, *args, **kwargs)

    table_class.put_item = put_in_turn  # type: ignore[method-assign]  # patching moto's method is the point
