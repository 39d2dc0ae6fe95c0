"""What `make tools` needs from the machine, checked before it installs anything: each missing or
too old prerequisite is named with how to get it. Stdlib only, and written for old Pythons too,
since saying that Python is too old is one of its jobs.

    python3 local/prerequisites.py     # exits 1 if something `make demo` and `make test` need is missing
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import urllib.parse

RUST = (1, 88)
PYTHON = (3, 11)
LOCALSTACK_PYTHON = (3, 13)
NODE = (18, 0)


def version_of(command: list[str]) -> tuple[int, int] | None:
    """The first dotted version a command prints for `--version`, as a tuple, or None."""
    try:
        out = subprocess.run([*command, "--version"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"(\d+)\.(\d+)", out.stdout + out.stderr)
    return (int(match.group(1)), int(match.group(2))) if match else None


def dotted(version: tuple[int, ...]) -> str:
    return ".".join(str(part) for part in version)


def localstack_python() -> str | None:
    """A Python 3.13+ as tests/api-gateway/run.py finds one: LOCALSTACK_PYTHON, pyenv, PATH."""
    candidates = [os.environ.get("LOCALSTACK_PYTHON", "")]
    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    versions = os.path.join(root, "versions")
    if os.path.isdir(versions):
        candidates += [os.path.join(versions, v, "bin", "python3") for v in sorted(os.listdir(versions))]
    candidates += [shutil.which(f"python3.{minor}") or "" for minor in range(13, 20)]
    for candidate in candidates:
        if candidate and os.path.exists(candidate) and (version_of([candidate]) or (0, 0)) >= LOCALSTACK_PYTHON:
            return candidate
    return None


def database_answers() -> bool:
    url = urllib.parse.urlparse(os.environ.get("DATABASE_URL") or "mysql://root@127.0.0.1:3306/coffee")
    try:
        with socket.create_connection((url.hostname or "127.0.0.1", url.port or 3306), timeout=2):
            return True
    except OSError:
        return False


def problems() -> tuple[list[str], list[str]]:
    """(missing: what `make demo` / `make test` cannot do without, later: what only some verbs need)."""
    missing, later = [], []
    rust = version_of(["cargo"])
    if rust is None:
        missing.append("Rust: install it with rustup (https://rustup.rs)")
    elif rust < RUST:
        missing.append(f"Rust {dotted(RUST)} or later (cargo is {dotted(rust)}): rustup update")
    if shutil.which("rustup") is None:
        later.append("rustup: make build adds the aarch64 target with it (https://rustup.rs)")
    if sys.version_info[:2] < PYTHON:
        missing.append(f"Python {dotted(PYTHON)} or later as python3 (this is {dotted(sys.version_info[:2])})")
    try:
        import venv  # noqa: F401  (Debian ships it apart)
    except ImportError:
        missing.append("Python's venv module: apt-get install python3-venv")
    node = version_of(["node"])
    if node is None or shutil.which("npm") is None:
        missing.append(f"Node.js {NODE[0]} or later with npm (https://nodejs.org, or apt-get install nodejs npm)")
    elif node < NODE:
        missing.append(f"Node.js {NODE[0]} or later (node is {dotted(node)})")
    if shutil.which("mariadb") is None and shutil.which("mysql") is None:
        missing.append("the mysql (or mariadb) client, which loads db/*.sql: apt-get install mariadb-client")
    if not database_answers() and shutil.which("mariadbd") is None and shutil.which("mysqld") is None:
        missing.append(
            "a MySQL or MariaDB server: nothing answers at DATABASE_URL (default root@127.0.0.1:3306) "
            "and none is installed to start (apt-get install mariadb-server, or brew install mariadb)"
        )
    if localstack_python() is None:
        later.append(
            "Python 3.13 or later for LocalStack in make test-api (pyenv install 3.13, or set LOCALSTACK_PYTHON)"
        )
    if shutil.which("chromium") is None:
        later.append(
            "Chromium for the ops page's browser check in make e2e (make chromium on Debian; skipped elsewhere)"
        )
    if shutil.which("aws") is None:
        later.append("the AWS CLI, to deploy (https://aws.amazon.com/cli/)")
    return missing, later


def main() -> int:
    missing, later = problems()
    for item in later:
        print(f"prerequisites: not found, needed later: {item}")
    for item in missing:
        print(f"prerequisites: missing: {item}", file=sys.stderr)
    if missing:
        print("prerequisites: install what is missing above, then run make tools again", file=sys.stderr)
        return 1
    print("prerequisites: all that make demo and make test need is here")
    return 0


if __name__ == "__main__":
    sys.exit(main())
