"""LocalStack in host mode: a child process of the test run, no Docker, bound to 127.0.0.1.

localstack-core's runtime is started as `python -m localstack.runtime.main` with the settings
below; its state lives under target/localstack/ and its log in target/localstack/localstack.log.
The process runs in its own process group so that stopping it also stops anything it started,
and its pid is written to target/localstack/localstack.pid so that run.py can stop a LocalStack
left behind by a run that was killed.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STATE = ROOT / "target" / "localstack"
PID_FILE = STATE / "localstack.pid"
LOG_FILE = STATE / "localstack.log"
DEFAULT_PORT = 4567  # 4566 is the local stack's moto server
# Step Functions reports each execution's status changes to EventBridge, hence events.
SERVICES = ["apigateway", "sqs", "stepfunctions", "iam", "sts", "events"]
START_TIMEOUT = 90.0
STOP_TIMEOUT = 15.0


def port() -> int:
    return int(os.environ.get("LOCALSTACK_PORT") or DEFAULT_PORT)


def environment(listen_port: int, services: list[str] = SERVICES) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        # The server needs no credentials and must not be pointed at another endpoint.
        if not key.startswith(("AWS_", "LOCALSTACK_", "DOCKER_")) and key not in ("DEBUG", "SERVICES")
    }
    env.update(
        {
            # This machine may itself be a container; LocalStack would then take the paths of
            # its Docker image (/var/lib/localstack, /tmp/localstack) and bind 0.0.0.0.
            "OVERRIDE_IN_DOCKER": "0",
            "GATEWAY_LISTEN": f"127.0.0.1:{listen_port}",
            "LOCALSTACK_HOST": f"127.0.0.1:{listen_port}",
            "SERVICES": ",".join(services),
            # The default server (twisted) needs service_identity, which localstack-core does
            # not install; hypercorn is the other server LocalStack ships.
            "GATEWAY_SERVER": "hypercorn",
            # No DNS server (it would bind port 53 on 0.0.0.0), no analytics, no download of a
            # TLS certificate: nothing leaves the machine.
            "DNS_ADDRESS": "0",
            "DISABLE_EVENTS": "1",
            "SKIP_SSL_CERT_DOWNLOAD": "1",
            "PERSISTENCE": "0",
            "FILESYSTEM_ROOT": str(STATE / "fs"),
            "CONFIG_DIR": str(STATE / "config"),
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def port_in_use(listen_port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", listen_port)) == 0


def _is_localstack(pid: int) -> bool:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return any(b"localstack" in part for part in command[1:3])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_pid(pid: int, timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM to the process group of `pid` (LocalStack shuts down its services), SIGKILL after
    `timeout`."""
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                # Reap it if it is our child; otherwise just watch it go.
                if os.waitpid(pid, os.WNOHANG)[0] == pid:
                    return
            except ChildProcessError:
                if not _alive(pid):
                    return
            time.sleep(0.1)


def stop_leftover() -> bool:
    """Stops a LocalStack that an earlier, killed run left (by its pid file). True if one was."""
    try:
        pid = int(PID_FILE.read_text().strip())
    except (OSError, ValueError):
        return False
    stopped = False
    if _alive(pid) and _is_localstack(pid):
        stop_pid(pid)
        stopped = True
    PID_FILE.unlink(missing_ok=True)
    return stopped


def _health(listen_port: int):
    url = f"http://127.0.0.1:{listen_port}/_localstack/health"
    with urllib.request.urlopen(url, timeout=2) as response:
        return json.load(response)


class LocalStack:
    """`services`: what LocalStack starts; `main`: the module (or script) that runs it, such as a
    launcher of the harness's that patches it first (localstack_no_docker.py)."""

    def __init__(
        self,
        listen_port: int | None = None,
        services: list[str] = SERVICES,
        main: str = "localstack.runtime.main",
    ):
        self.port = listen_port or port()
        self.services = services
        self.main = main
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.start_seconds: float | None = None
        self.stop_seconds: float | None = None
        self.version: str | None = None

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(LOG_FILE.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def start(self, timeout: float = START_TIMEOUT) -> "LocalStack":
        STATE.mkdir(parents=True, exist_ok=True)
        stop_leftover()
        if port_in_use(self.port):
            raise RuntimeError(f"127.0.0.1:{self.port} is taken by another program; stop it or set LOCALSTACK_PORT")
        started = time.monotonic()
        with open(LOG_FILE, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, *([self.main] if self.main.endswith(".py") else ["-m", self.main])],
                env=environment(self.port, self.services),
                cwd=STATE,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        PID_FILE.write_text(str(self.process.pid))
        deadline = started + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"LocalStack exited with {self.process.returncode} while starting:\n{self.log_tail()}"
                )
            try:
                health = _health(self.port)
                services = health.get("services", {})
                if all(services.get(name) in ("available", "running") for name in self.services):
                    self.version = health.get("version")
                    break
            except (urllib.error.URLError, OSError, ValueError):
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"LocalStack did not answer within {timeout:.0f} s:\n{self.log_tail()}")
            time.sleep(0.1)
        self.start_seconds = time.monotonic() - started
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            started = time.monotonic()
            stop_pid(self.process.pid)
            self.stop_seconds = time.monotonic() - started
        self.process = None
        PID_FILE.unlink(missing_ok=True)
