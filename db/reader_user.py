"""Creates (or resets) the database user inventory-reader logs in as: SELECT on the COFFEE
database's `suppliers` and `beans` tables, nothing else. It prints the JSON to store in the
reader's Secrets Manager secret, with a new random password; the password is never on a command
line (the SQL goes to the client on stdin).

    python3 db/reader_user.py ADMIN_URL [--user cafe_reader] [-- extra mysql client options]

ADMIN_URL is a `mysql://admin@host:3306/COFFEE` URL of a user that may create users and grant;
its password, if any, comes from the environment variable MYSQL_PWD or the client's prompt
(add `-- -p`). For RDS, add `-- --ssl` (or `--ssl-verify-server-cert`). `make db-reader-user`
runs it.
"""

import argparse
import json
import re
import secrets
import shutil
import subprocess
import sys
import urllib.parse

# A MySQL user name the SQL below can quote as it is.
USER_NAME = re.compile(r"[A-Za-z0-9_]{1,32}")
DATABASE_NAME = re.compile(r"[A-Za-z0-9_]{1,64}")
TABLES = ("suppliers", "beans")


def statements(user: str, database: str, password: str) -> str:
    """The SQL: the user with `password` (created, or its password reset), SELECT on the two
    tables only. `password` is URL-safe base64, which needs no quoting."""
    lines = [
        f"CREATE USER IF NOT EXISTS '{user}'@'%' IDENTIFIED BY '{password}';",
        f"ALTER USER '{user}'@'%' IDENTIFIED BY '{password}';",
    ]
    lines += [f"GRANT SELECT ON `{database}`.`{table}` TO '{user}'@'%';" for table in TABLES]
    return "\n".join(lines) + "\n"


def client_command(url: str, extra: list[str]) -> tuple[list[str], str]:
    """The mysql (or mariadb) client command for `url`, and the database it names."""
    parts = urllib.parse.urlparse(url)
    if parts.scheme != "mysql" or not parts.hostname:
        raise SystemExit(f"error: {url!r} is not a mysql://user@host:port/database URL")
    if parts.password:
        raise SystemExit("error: put the admin password in MYSQL_PWD or answer the prompt (-- -p), not in the URL")
    database = parts.path.lstrip("/")
    if not DATABASE_NAME.fullmatch(database):
        raise SystemExit(f"error: the URL names no usable database ({database!r}); the COFFEE database is expected")
    client = shutil.which("mariadb") or shutil.which("mysql")
    if client is None:
        raise SystemExit("error: the mysql (or mariadb) command-line client is needed")
    command = [
        client,
        "-h",
        parts.hostname,
        "-P",
        str(parts.port or 3306),
        "-u",
        urllib.parse.unquote(parts.username or "root"),
        *extra,
    ]
    return command, database


def main(argv: list[str]) -> None:
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    own = argv[: argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("admin_url")
    parser.add_argument("--user", default="cafe_reader")
    args = parser.parse_args(own)
    if not USER_NAME.fullmatch(args.user):
        raise SystemExit(f"error: {args.user!r}: a user name of letters, digits and _ (at most 32)")
    command, database = client_command(args.admin_url, extra)
    password = secrets.token_urlsafe(24)
    done = subprocess.run(command, input=statements(args.user, database, password), text=True)
    if done.returncode != 0:
        raise SystemExit(f"error: the client failed ({done.returncode}); nothing to store")
    print(json.dumps({"username": args.user, "password": password}))


if __name__ == "__main__":
    main(sys.argv[1:])
