#!/usr/bin/env python3
"""Runs the café API on an engine that executes it: LocalStack's API Gateway, SQS and Step Functions.

    python3 tests/api-gateway/run.py [--stack] [pytest arguments]

Finds a Python 3.13 or later (localstack-core 2026.3.0 needs it), keeps LocalStack in the
project-local venv .venv-localstack/ (made again when tests/api-gateway/requirements.txt or
constraints.txt change), translates template.yaml with deploy/transform.py when target/sam/ is
missing or older than it, and runs the tests in this folder (with --stack, those of tests/deploy/, make test-deploy), which start LocalStack in host mode on
127.0.0.1:${LOCALSTACK_PORT:-4567} (no Docker) and stop it at the end. LocalStack's state and log
are under target/localstack/. Exits with pytest's status, or non-zero with a message when
something it needs is missing. Any python3 can run this file; it uses the standard library only.

Environment: LOCALSTACK_PYTHON (an interpreter to use), LOCALSTACK_PORT (default 4567),
API_GATEWAY_TEST_TIMEOUT (seconds for the test run, default 900).
"""

import contextlib
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
VENV = ROOT / ".venv-localstack"
STAMP = VENV / ".installed"
REQUIREMENTS = HERE / "requirements.txt"
CONSTRAINTS = HERE / "constraints.txt"
TOOLS_PYTHON = ROOT / ".venv" / "bin" / "python"
TEMPLATE = ROOT / "template.yaml"
TRANSFORM = ROOT / "deploy" / "transform.py"
TRANSLATED = [ROOT / "target" / "sam" / f"{variant}.json" for variant in ("defaults", "ApiAuth-API_KEY")]
STATE = ROOT / "target" / "localstack"
MINIMUM = (3, 13)
SETUP_TIMEOUT = 900


def say(message: str) -> None:
    print(f"api-gateway: {message}", flush=True)


def fail(message: str, code: int = 2) -> "None":
    print(f"api-gateway: {message}", file=sys.stderr, flush=True)
    sys.exit(code)


def version_of(python: str):
    try:
        out = subprocess.run(
            [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=20,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    try:
        return tuple(int(part) for part in out.stdout.strip().split("."))
    except ValueError:
        return None


def pyenv_root():
    if os.environ.get("PYENV_ROOT"):
        return Path(os.environ["PYENV_ROOT"])
    if shutil.which("pyenv"):
        try:
            out = subprocess.run(
                ["pyenv", "root"], capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL
            )
            if out.returncode == 0 and out.stdout.strip():
                return Path(out.stdout.strip())
        except (OSError, subprocess.TimeoutExpired):
            pass
    return Path.home() / ".pyenv"


def find_python() -> str:
    """LOCALSTACK_PYTHON, then the newest pyenv CPython >= 3.13, then python3.x on PATH."""
    if os.environ.get("LOCALSTACK_PYTHON"):
        python = os.environ["LOCALSTACK_PYTHON"]
        found = version_of(python)
        if not found or found < MINIMUM:
            fail(f"LOCALSTACK_PYTHON={python} is not a working Python {MINIMUM[0]}.{MINIMUM[1]}+")
        return python
    candidates = []
    versions = pyenv_root() / "versions"
    if versions.is_dir():
        for entry in versions.iterdir():
            parts = entry.name.split(".")
            if len(parts) >= 2 and parts[0].isdigit() and parts[1].isdigit() and (entry / "bin" / "python3").exists():
                candidates.append(((int(parts[0]), int(parts[1]), entry.name), str(entry / "bin" / "python3")))
    candidates.sort(reverse=True)
    ordered = [python for _, python in candidates]
    for minor in range(20, MINIMUM[1] - 1, -1):
        if path := shutil.which(f"python3.{minor}"):
            ordered.append(path)
    if path := shutil.which("python3"):
        ordered.append(path)
    for python in ordered:
        found = version_of(python)
        if found and found >= MINIMUM:
            return python
    fail(
        "the API Gateway test needs Python 3.13 or later (localstack-core 2026.3.0 does not run "
        "on 3.12), and none was found on PATH or under pyenv. Install one, e.g. `pyenv install 3.13` "
        "(or your system's python3.13 package), or point LOCALSTACK_PYTHON at one."
    )


def stamp_for(python: str) -> str:
    digest = hashlib.sha256()
    for path in (REQUIREMENTS, CONSTRAINTS):
        digest.update(path.read_bytes())
    digest.update(os.path.realpath(python).encode())
    digest.update(repr(version_of(python)).encode())
    return digest.hexdigest()


def ensure_venv(python: str) -> Path:
    venv_python = VENV / "bin" / "python"
    wanted = stamp_for(python)
    if STAMP.exists() and STAMP.read_text().strip() == wanted and venv_python.exists():
        return venv_python
    started = time.monotonic()
    say(f"installing LocalStack into {VENV.name}/ with {python} (a few minutes, once)")
    shutil.rmtree(VENV, ignore_errors=True)
    run([python, "-m", "venv", str(VENV)], "creating the venv")
    run(
        [
            str(venv_python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-input",
            "-r",
            str(REQUIREMENTS),
            "-c",
            str(CONSTRAINTS),
        ],
        "installing tests/api-gateway/requirements.txt",
    )
    STAMP.write_text(wanted + "\n")
    say(f"venv ready in {time.monotonic() - started:.0f} s")
    return venv_python


def run(command, what: str, timeout: float = SETUP_TIMEOUT, **kwargs) -> None:
    try:
        done = subprocess.run(command, stdin=subprocess.DEVNULL, timeout=timeout, **kwargs)
    except subprocess.TimeoutExpired:
        fail(f"{what}: no end after {timeout:.0f} s")
    except OSError as error:
        fail(f"{what}: {error}")
    if done.returncode != 0:
        fail(f"{what} failed (exit {done.returncode})", code=done.returncode or 1)


def ensure_translated() -> None:
    sources = [TEMPLATE, TRANSFORM]
    newest = max(path.stat().st_mtime for path in sources)
    if all(path.exists() and path.stat().st_mtime >= newest for path in TRANSLATED):
        return
    if not TOOLS_PYTHON.exists():
        say(".venv/ is missing: make tools")
        run(["make", "--no-print-directory", "tools"], "make tools", cwd=ROOT)
    say("translating template.yaml (deploy/transform.py)")
    run([str(TOOLS_PYTHON), str(TRANSFORM)], "deploy/transform.py", cwd=ROOT)
    missing = [str(path.relative_to(ROOT)) for path in TRANSLATED if not path.exists()]
    if missing:
        fail(f"deploy/transform.py did not write {', '.join(missing)}")


def stop_leftover_localstack(venv_python: Path) -> None:
    """A LocalStack that outlived its test run (the run was killed) is stopped by its pid file."""
    subprocess.run(
        [
            str(venv_python),
            "-c",
            "import localstack_host as h; h.stop_leftover() and print('api-gateway: stopped a LocalStack left running')",
        ],
        cwd=HERE,
        stdin=subprocess.DEVNULL,
        timeout=60,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )


def main() -> int:
    started = time.monotonic()
    python = find_python()
    venv_python = ensure_venv(python)
    ensure_translated()
    STATE.mkdir(parents=True, exist_ok=True)
    timeout = float(os.environ.get("API_GATEWAY_TEST_TIMEOUT") or 900)
    env = {
        **os.environ,
        "PYTHONDONTWRITEBYTECODE": "1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    arguments = sys.argv[1:]
    # --stack: the stack on LocalStack's CloudFormation (tests/deploy/, make test-deploy), which
    # imports this folder's LocalStack harness, and deploy/'s reading of make build's zips.
    stack = [str(ROOT / "tests" / "deploy"), "-o", f"pythonpath={HERE} {ROOT / 'deploy'}"]
    suite = stack if arguments[:1] == ["--stack"] else [str(HERE)]
    arguments = arguments[1:] if arguments[:1] == ["--stack"] else arguments
    command = [str(venv_python), "-m", "pytest", *suite, "-p", "no:cacheprovider", "-rs", *arguments]
    say(
        f"running the tests ({venv_python.parent.parent.name}, Python {'.'.join(map(str, version_of(str(venv_python))))})"
    )
    tests = subprocess.Popen(command, cwd=HERE, env=env, stdin=subprocess.DEVNULL, start_new_session=True)

    def interrupt(_signum=None, _frame=None):
        # pytest stops on SIGINT as on Ctrl-C: it runs the fixtures' teardown, which stops
        # LocalStack.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(tests.pid, signal.SIGINT)

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, interrupt)
    try:
        code = tests.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        print(f"api-gateway: the tests did not end within {timeout:.0f} s; stopping them", file=sys.stderr)
        interrupt()
        try:
            tests.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(tests.pid, signal.SIGKILL)
            tests.wait()
        code = 1
    finally:
        if tests.poll() is None:  # interrupted while waiting: give pytest its teardown time
            try:
                tests.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(tests.pid, signal.SIGKILL)
                tests.wait()
        stop_leftover_localstack(venv_python)
    if code < 0:  # ended by a signal
        code = 128 - code
    say(f"{'passed' if code == 0 else f'failed (exit {code})'} in {time.monotonic() - started:.0f} s")
    return code


if __name__ == "__main__":
    sys.exit(main())
