#!/usr/bin/env python3
"""The local stack: the café's whole back end on this machine, no AWS account, no Docker.

    stack.py up     start everything in the background; returns once every part answers
    stack.py down   stop what `up` started (by the pid files under .local/pids/)
    stack.py run    `up` with the functions and the gateway rebuilt and restarted when their
                    sources change, until Ctrl-C, then `down`
    stack.py e2e    run the end-to-end tests and the ops page's browser check against the stack
                    (started if needed)
    stack.py faults run the fault-tolerance tests against the stack (started if needed)
    stack.py env    print the environment the stack gives the functions

The demo, which runs both pipelines once against the stack, is local/demo.py (`make demo`).

Parts: MySQL (DATABASE_URL, or a private MariaDB under .local/ when nothing answers), the AWS
emulator (local/emulator/, 127.0.0.1:4566), the functions (`cargo lambda watch`, 127.0.0.1:9000)
and the gateway (cafe-gateway, 127.0.0.1:3000). Logs go to .local/logs/.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import NoReturn

from resources import local_resources

ROOT = Path(__file__).resolve().parent.parent
LOCAL = ROOT / ".local"
LOGS, PIDS = LOCAL / "logs", LOCAL / "pids"
VENV_BIN = ROOT / ".venv" / "bin"
TARGET = Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target")
EMULATOR = "http://127.0.0.1:4566"
FUNCTIONS_PORT = 9000
MYSQL_RELAY_PORT = 4510
GATEWAY = "http://127.0.0.1:3000"
DEFAULT_DATABASE_URL = "mysql://root@127.0.0.1:3306/coffee"
# The functions and every resource, named as template.yaml says (local/resources.py).
RESOURCES = local_resources()
# What the functions and the gateway need to talk to the emulator.
LOCAL_AWS = {
    "AWS_ENDPOINT_URL": EMULATOR,
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "MAILBOX_FILE": str(LOCAL / "mailbox.jsonl"),
}
# The functions' own settings, named as in template.yaml: those naming a resource from the template
# (the emulator's resources) and its literal values, as they are; the others with local values (DATABASE_URL is added once the
# database is known). `stack.py env` prints them.
FUNCTION_ENV = {
    **RESOURCES["environment"],
    "LOW_STOCK_THRESHOLD": "50",
    "REPORT_CURRENCY": "USD",
    # The template's CafeTimeZone; yours when set (CAFE_TIME_ZONE=Europe/Paris make local-up).
    "CAFE_TIME_ZONE": os.environ.get("CAFE_TIME_ZONE") or "UTC",
    "REPORT_LINK_EXPIRY_SECONDS": "900",
}


# inventory-reader runs here as it is deployed: as its own SELECT-only user (db/reader_user.py),
# with the password in a Secrets Manager secret (in the emulator) that it reads and reads again
# when a login is refused, through the relay, without TLS. So a password rotation can be tried
# on the running stack (tests/tests/rotation.rs). DATABASE_URL stays for the tests' own use.
READER_USER = "cafe_reader"
READER_SECRET = "cafe-db-reader"


def reader_env(database: str) -> dict[str, str]:
    return {
        "DB_HOST": "127.0.0.1",
        "DB_PORT": str(MYSQL_RELAY_PORT),
        "DB_NAME": database,
        "DB_USER": READER_USER,
        "DB_SECRET_ARN": READER_SECRET,
        "DB_TLS": "disabled",
    }


def create_reader_secret(database_url: str) -> None:
    """Creates (or resets) the reader user with a new password, and puts that in the emulator's
    secret, as make db-reader-user and the deploy steps do with RDS."""
    import boto3

    url = urllib.parse.urlparse(database_url)
    admin = url._replace(netloc=url.netloc.replace(f":{url.password}@", "@")) if url.password else url
    done = subprocess.run(
        [sys.executable, str(ROOT / "db" / "reader_user.py"), admin.geturl(), "--user", READER_USER],
        capture_output=True,
        text=True,
        env=mysql_password_env(database_url),
    )
    if done.returncode != 0:
        fail(
            f"could not create the database user {READER_USER} at {redacted(database_url)} (db/reader_user.py): "
            f"{done.stderr.strip()}; the URL's user must be allowed to create users and grant"
        )
    secrets = boto3.client(
        "secretsmanager",
        endpoint_url=EMULATOR,
        region_name=LOCAL_AWS["AWS_REGION"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    secrets.create_secret(Name=READER_SECRET, SecretString=done.stdout.strip())


def say(message: str) -> None:
    print(message, flush=True)


def fail(message: str) -> NoReturn:
    print(f"error: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


# ---------------------------------------------------------------- processes


def start(name: str, command: list[str], env: dict[str, str], cwd: Path = ROOT) -> subprocess.Popen[bytes]:
    LOGS.mkdir(parents=True, exist_ok=True)
    PIDS.mkdir(parents=True, exist_ok=True)
    log = open(LOGS / f"{name}.log", "ab")  # noqa: SIM115 (the child process writes to it)
    # A session of its own, so `down` can stop the process and all it started.
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    (PIDS / f"{name}.pid").write_text(str(process.pid))
    return process


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def stop(name: str) -> bool:
    pid_file = PIDS / f"{name}.pid"
    if not pid_file.exists():
        return False
    pid = int(pid_file.read_text())
    for sig, patience in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pid, sig)
        except OSError:
            break
        deadline = time.time() + patience
        while alive(pid) and time.time() < deadline:
            time.sleep(0.1)
        if not alive(pid):
            break
    pid_file.unlink(missing_ok=True)
    return True


def wait_for(
    what: str, ready: Callable[[], bool], process: subprocess.Popen[bytes] | None = None, timeout: float = 120
) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if ready():
            return
        if process is not None and process.poll() is not None:
            fail(f"{what} stopped at start; see {LOGS}/")
        time.sleep(0.2)
    fail(f"{what} did not answer within {timeout} s; see {LOGS}/")


def port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- MySQL


def redacted(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urllib.parse.urlparse(url)
    return (
        parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")).geturl() if parts.password else url
    )


def mysql_password_env(url: str) -> dict[str, str]:
    """The environment for the mysql client: the URL's password in MYSQL_PWD, where no other user
    of the machine can read it (unlike the command line, which `ps` shows)."""
    password = urllib.parse.urlparse(url).password
    return {**os.environ, **({"MYSQL_PWD": urllib.parse.unquote(password)} if password else {})}


def mysql_command(url: str, database: str | None = None) -> list[str]:
    """The mysql client's command for `url`, without its password (see mysql_password_env)."""
    client = shutil.which("mariadb") or shutil.which("mysql")
    if client is None:
        fail("the mysql (or mariadb) command-line client is needed to load db/*.sql; install MariaDB's client")
    parts = urllib.parse.urlparse(url)
    command = [
        client,
        "-h",
        parts.hostname or "127.0.0.1",
        "-P",
        str(parts.port or 3306),
        "-u",
        urllib.parse.unquote(parts.username or "root"),
    ]
    if database:
        command.append(database)
    return command


def start_private_mariadb() -> str:
    server = (
        shutil.which("mariadbd")
        or shutil.which("mysqld")
        or ("/usr/sbin/mariadbd" if Path("/usr/sbin/mariadbd").exists() else None)
    )
    if server is None:
        fail(
            "no MySQL or MariaDB answers at DATABASE_URL and none is installed. Install MariaDB "
            "(Debian/Ubuntu: sudo apt-get install mariadb-server; macOS: brew install mariadb) "
            "and start it, or set DATABASE_URL to a server you have."
        )
    data = LOCAL / "mysql"
    if not (data / "mysql").exists():
        installer = shutil.which("mariadb-install-db") or shutil.which("mysql_install_db")
        if installer is None:
            fail(f"{server} is installed but mariadb-install-db is not; cannot create a private database")
        say(f"creating a private MariaDB under {data} …")
        subprocess.run(
            [
                installer,
                "--no-defaults",
                f"--datadir={data}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                f"--user={os.environ.get('USER', 'root')}",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
    port = free_port()
    process = start(
        "mariadb",
        [
            server,
            "--no-defaults",
            f"--datadir={data}",
            f"--port={port}",
            "--bind-address=127.0.0.1",
            f"--socket={LOCAL / 'mysql.sock'}",
            f"--user={os.environ.get('USER', 'root')}",
        ],
        {},
    )
    wait_for("the private MariaDB", lambda: port_open("127.0.0.1", port), process)
    return f"mysql://root@127.0.0.1:{port}/coffee"


def ensure_database() -> str:
    """DATABASE_URL (or the default) answering, with the COFFEE tables loaded."""
    url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    parts = urllib.parse.urlparse(url)
    if not port_open(parts.hostname or "127.0.0.1", parts.port or 3306):
        say(f"nothing answers at {parts.hostname}:{parts.port or 3306}")
        url = start_private_mariadb()
        parts = urllib.parse.urlparse(url)
    database = parts.path.lstrip("/") or "coffee"
    env = mysql_password_env(url)
    subprocess.run(
        [*mysql_command(url), "-e", f"CREATE DATABASE IF NOT EXISTS `{database}` CHARACTER SET utf8mb4"],
        check=True,
        env=env,
    )
    tables = subprocess.run(
        [*mysql_command(url, database), "-N", "-e", "SHOW TABLES"], check=True, capture_output=True, text=True, env=env
    ).stdout.split()
    if not tables:
        for file in ("schema.sql", "seed.sql"):
            with open(ROOT / "db" / file, "rb") as sql:
                subprocess.run(mysql_command(url, database), stdin=sql, check=True, env=env)
        say(f"loaded db/schema.sql and db/seed.sql into {database}")
    # It may hold a password: readable by its owner only.
    saved = LOCAL / "database_url"
    saved.touch(mode=0o600)
    saved.chmod(0o600)
    saved.write_text(url)
    return url


# ---------------------------------------------------------------- up / down


def running() -> bool:
    return http_ok(f"{GATEWAY}/health")


def up(reload_on_change: bool = False) -> bool:
    """Starts the stack unless it is running; returns whether it started it. With
    reload_on_change the functions are rebuilt and restarted when their sources change (for
    `make local`); otherwise not, since a restart drops the invocations in flight."""
    if running():
        say(f"the local stack is already running at {GATEWAY}")
        return False
    LOCAL.mkdir(exist_ok=True)
    try:
        start_all(reload_on_change)
    except BaseException:
        down()
        raise
    return True


def stack_env(database_url: str) -> dict[str, str]:
    """What the emulator, the functions and the gateway get: the emulator's endpoint, the functions'
    settings, and the database through the emulator's relay, so the fault tests can cut it off."""
    database = urllib.parse.urlparse(database_url)
    credentials = database.netloc.rsplit("@", 1)[0] + "@" if "@" in database.netloc else ""
    relayed = database._replace(netloc=f"{credentials}127.0.0.1:{MYSQL_RELAY_PORT}").geturl()
    return {
        **LOCAL_AWS,
        **FUNCTION_ENV,
        **reader_env(database.path.lstrip("/")),
        "DATABASE_URL": relayed,
        "PATH": f"{VENV_BIN}:{os.environ['PATH']}",
    }


def start_gateway(env: dict[str, str]) -> None:
    gateway = start(
        "gateway",
        [str(TARGET / "debug" / "cafe-gateway")],
        {**env, "EMULATOR_READY_FILE": str(LOCAL / "emulator.json")},
    )
    wait_for("the gateway", running, gateway)


# What the gateway is built from, besides crates.io: a change here rebuilds and restarts it in
# `stack.py run` (cargo lambda watch does the same for the functions).
GATEWAY_SOURCES = (ROOT / "local" / "gateway", ROOT / "local" / "event-sources", ROOT / "shared")


def last_change(folders: Iterable[Path]) -> float:
    return max(
        (f.stat().st_mtime for folder in folders for f in folder.rglob("*") if f.is_file() and "target" not in f.parts),
        default=0.0,
    )


def reload_gateway_on_change() -> None:
    """Polls the gateway's sources; on a change, rebuilds it and restarts it (a build that fails
    leaves the running gateway as it is). Returns on SIGINT or SIGTERM."""
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    seen = last_change(GATEWAY_SOURCES)
    env = stack_env((LOCAL / "database_url").read_text().strip())
    try:
        while True:
            time.sleep(1)
            changed = last_change(GATEWAY_SOURCES)
            if changed == seen:
                continue
            seen = changed
            t0 = time.time()
            say("the gateway's sources changed: rebuilding it …")
            if subprocess.run(["cargo", "build", "--bin=cafe-gateway"], cwd=ROOT).returncode != 0:
                say("the gateway did not build; the one running is kept")
                continue
            stop("gateway")
            start_gateway(env)
            say(f"gateway restarted with the change in {time.time() - t0:.1f} s")
    except KeyboardInterrupt:
        pass


def start_all(reload_on_change: bool) -> None:
    t0 = time.time()
    database_url = ensure_database()
    say("building the functions and the gateway (the first time takes a few minutes) …")
    # Built as `cargo lambda watch` runs them (`cargo run --bin <function>` in the workspace, so
    # with the workspace's features), so a function's first invocation starts at once.
    subprocess.run(
        ["cargo", "build", *(f"--bin={name}" for name in RESOURCES["functions"] + ["cafe-gateway"])],
        cwd=ROOT,
        check=True,
    )
    env = stack_env(database_url)
    database = urllib.parse.urlparse(database_url)
    ready = LOCAL / "emulator.json"
    ready.unlink(missing_ok=True)
    emulator = start(
        "emulator",
        [str(VENV_BIN / "python"), "-m", "emulator"],
        {
            **env,
            "EMULATOR_READY_FILE": str(ready),
            "MYSQL_RELAY_PORT": str(MYSQL_RELAY_PORT),
            "MYSQL_UPSTREAM": f"{database.hostname}:{database.port or 3306}",
        },
        cwd=ROOT / "local",
    )
    wait_for("the AWS emulator", ready.exists, emulator)
    create_reader_secret(database_url)
    watch = [
        str(VENV_BIN / "cargo-lambda"),
        "lambda",
        "watch",
        "--concurrency",
        "4",
        "--invoke-address",
        "127.0.0.1",
        "--invoke-port",
        str(FUNCTIONS_PORT),
    ]
    functions = start("functions", watch + ([] if reload_on_change else ["--ignore-changes"]), env)
    wait_for("cargo lambda watch", lambda: port_open("127.0.0.1", FUNCTIONS_PORT), functions)
    start_gateway(env)
    say(
        f"local stack up in {time.time() - t0:.1f} s: gateway {GATEWAY} (POST /orders, POST /create_report, "
        f"GET /mailbox), AWS emulator {EMULATOR}, functions 127.0.0.1:{FUNCTIONS_PORT}, "
        f"MySQL {redacted(database_url)}; logs in {LOGS}/"
    )


def down() -> None:
    stopped = [name for name in ("gateway", "functions", "emulator", "mariadb") if stop(name)]
    say(f"stopped {', '.join(stopped)}" if stopped else "nothing of the local stack was running")


def run() -> None:
    started = up(reload_on_change=True)
    say(
        "a change to a function's sources rebuilds and restarts that function, and to the "
        "gateway's (local/gateway/, local/event-sources/, shared/) the gateway; press Ctrl-C to stop"
    )
    try:
        reload_gateway_on_change()
    finally:
        if started:
            down()


def run_against_stack(test: str, *arguments: str, then: list[str] | None = None) -> NoReturn:
    """Runs one of the stack's test files against the stack, started (and then stopped) if needed;
    then, if they passed, the command `then`."""
    started = up()
    try:
        result = subprocess.run(
            ["cargo", "test", "--package", "cafe-tests", "--test", test, "--", "--include-ignored", *arguments],
            cwd=ROOT,
        )
        if result.returncode == 0 and then:
            result = subprocess.run(then, cwd=ROOT)
    finally:
        if started:
            down()
    sys.exit(result.returncode)


def e2e() -> None:
    # The ops page in a real browser, after the tests gave it orders, reports and metrics to show.
    run_against_stack("end_to_end", then=[sys.executable, str(ROOT / "tests" / "ops_page.py")])


def faults() -> None:
    # One at a time: a fault is injected into the whole stack.
    run_against_stack("faults", "--test-threads=1", "--nocapture")


def env() -> None:
    print(
        json.dumps(
            {**LOCAL_AWS, **FUNCTION_ENV, **reader_env("coffee"), "DATABASE_URL": DEFAULT_DATABASE_URL}, indent=2
        )
    )


if __name__ == "__main__":
    verbs: dict[str, Callable[[], object]] = {
        "up": up,
        "down": down,
        "run": run,
        "e2e": e2e,
        "faults": faults,
        "env": env,
    }
    if len(sys.argv) != 2 or sys.argv[1] not in verbs:
        fail(f"usage: {sys.argv[0]} {{{'|'.join(verbs)}}}")
    verbs[sys.argv[1]]()
