"""Fixtures: one LocalStack for the run, and the café API of each translated variant in it.

`api` is the variant's API, shared by the tests of that variant (each test starts with an empty
queue); `fresh_api` is a new one for a test that breaks what the API calls (deletes the queue or
the state machine).
"""

import cafe_api
import pytest
from localstack_host import LocalStack

# The translated templates that differ in the API: IAM (SigV4, the default) and API keys.
VARIANTS = ["defaults", "ApiAuth-API_KEY"]

_started = {}


@pytest.fixture(scope="session")
def localstack():
    for variant in VARIANTS:
        if not (cafe_api.SAM_OUT / f"{variant}.json").exists():
            pytest.exit(f"target/sam/{variant}.json is missing: run deploy/transform.py (run.py does)", returncode=2)
    server = LocalStack()
    try:
        server.start()
        _started.update(seconds=server.start_seconds, version=server.version, port=server.port)
        yield server
    finally:
        server.stop()
        _started["stop_seconds"] = server.stop_seconds


@pytest.fixture(scope="session")
def aws(localstack):
    clients = cafe_api.clients(localstack.endpoint)
    yield clients
    # LocalStack's server waits for open keep-alive connections before it stops.
    for client in clients.values():
        client.close()


@pytest.fixture(scope="session", params=VARIANTS)
def variant(request):
    return request.param


@pytest.fixture(scope="session")
def deployed(aws, localstack, variant):
    api = cafe_api.deploy(aws, localstack.endpoint, variant)
    yield api
    api.teardown()


@pytest.fixture
def api(deployed):
    """The variant's API with an empty queue."""
    deployed.drain()
    return deployed


@pytest.fixture
def fresh_api(aws, localstack, variant):
    api = cafe_api.deploy(aws, localstack.endpoint, variant)
    yield api
    api.teardown()


def pytest_terminal_summary(terminalreporter):
    if _started:
        terminalreporter.write_line(
            f"LocalStack {_started['version']} (host mode, 127.0.0.1:{_started['port']}) "
            f"answered {_started['seconds']:.1f} s after it was started"
            + (f" and stopped in {_started['stop_seconds']:.1f} s" if _started.get("stop_seconds") is not None else "")
        )
