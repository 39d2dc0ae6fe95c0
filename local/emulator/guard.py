"""What a server on a developer's machine needs: only loopback Host names are answered, and no
request a browser sends for a page elsewhere. With moto's permissive CORS off (see
`patches`), no web page can read what the emulator answers."""

import json
import re
from collections.abc import Callable, Iterable
from wsgiref.types import StartResponse, WSGIEnvironment

# Host names a request may carry: this machine's loopback names, with any port. A web page can make
# a browser send requests here by giving its own name a loopback address (DNS rebinding); the
# browser then lets the page read the answers (queues, the table, the reports) as its own. Those
# requests carry the page's name. Names under `localhost` are loopback too (browsers never ask DNS
# for them), and S3's virtual-hosted style sends `bucket.localhost` to an endpoint on localhost;
# the café's clients use path style and 127.0.0.1, moto's Step Functions calls localhost.
_HOST = re.compile(r"(?:\[(?P<address>[0-9A-Fa-f:.]+)\]|(?P<name>[A-Za-z0-9.-]+))(?::[0-9]*)?")


def is_loopback_host(host: str | None) -> bool:
    """Whether `host`, a Host header, names this machine by a loopback name: localhost (or a name
    under it), 127.0.0.1 or [::1], with any port or none."""
    match = _HOST.fullmatch(host or "")
    if not match:
        return False
    if match["address"] is not None:
        return match["address"] == "::1"
    name = match["name"].lower()
    return name in ("localhost", "127.0.0.1") or name.endswith(".localhost")


def is_loopback_origin(origin: str | None) -> bool:
    """Whether an Origin header names a page served from this machine."""
    _, separator, host = (origin or "").partition("://")
    return bool(separator) and is_loopback_host(host)


def loopback_only(
    environ: WSGIEnvironment, start_response: StartResponse, forward: Callable[[], Iterable[bytes]]
) -> Iterable[bytes]:
    """A WSGI request: refused with 421 unless its Host is a loopback name, and with 403 when a
    page elsewhere made the browser send it (its Origin names that page: moto takes unsigned
    form-encoded calls, which a page can send without a preflight); else `forward()`."""
    host, origin = environ.get("HTTP_HOST"), environ.get("HTTP_ORIGIN")
    if origin is not None and not is_loopback_origin(origin):
        status, error = (
            "403 Forbidden",
            (f"this local AWS emulator answers only pages served from this machine; the Origin here is {origin}"),
        )
    elif not is_loopback_host(host):
        named = f"`{host}`" if host else "none"
        status, error = (
            "421 Misdirected Request",
            (
                "this local AWS emulator answers only requests "
                "for localhost, 127.0.0.1 or [::1] (any port); "
                f"the Host here is {named}"
            ),
        )
    else:
        return forward()
    body = json.dumps({"error": error}).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
