"""The emulator's wiring: the settings from the environment, moto patched (`patches`), every
request through the loopback guard (`guard`) and the fault switch (`faults`), the MySQL relay
(`relay`), the server, its resources (`provision`), and the ready file once they exist.

Run as `python -m emulator` from local/ (local/ is where it finds `resources`). Every setting is an
environment variable, read in `main` with its default there; the resources and their names come
from template.yaml (`local/resources.py`).
"""

import json
import logging
import os
import signal
import threading
from pathlib import Path

from resources import local_resources

from emulator import ROOT, faults, guard, patches, provision, relay

HOST = "127.0.0.1"


def setting(name: str, default: str) -> str:
    return os.environ.get(name) or default


def main() -> None:
    port = int(setting("MOTO_PORT", "4566"))
    # The state machine interpreter calls Lambda at http://localhost:$MOTO_PORT.
    os.environ["MOTO_PORT"] = str(port)
    region = setting("AWS_REGION", "us-east-1")
    lambda_endpoint = setting("LAMBDA_ENDPOINT", "http://127.0.0.1:9000")
    mailbox_file = Path(setting("MAILBOX_FILE", str(ROOT / ".local" / "mailbox.jsonl")))
    # Written once every resource exists, so whoever waits on it can start using them.
    ready_file = Path(setting("EMULATOR_READY_FILE", str(ROOT / ".local" / "emulator.json")))
    relay_port = int(setting("MYSQL_RELAY_PORT", "4510"))
    mysql_upstream = setting("MYSQL_UPSTREAM", "127.0.0.1:3306")
    plan = local_resources(region=region)

    from moto.server import ThreadedMotoServer

    patches.install(lambda_endpoint, mailbox_file)
    mailbox_file.parent.mkdir(parents=True, exist_ok=True)
    mailbox_file.write_text("", encoding="utf-8")
    ready_file.unlink(missing_ok=True)

    switch = faults.Faults()
    patches.put_in_front(
        lambda environ, start_response, forward: guard.loopback_only(
            environ,
            start_response,
            lambda: switch.handle(
                environ, start_response, lambda: patches.refuse_unsupported(environ, start_response, forward)
            ),
        )
    )
    mysql = relay.MysqlRelay(switch, relay_port, mysql_upstream)
    threading.Thread(target=mysql.serve, daemon=True).start()

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    server = ThreadedMotoServer(ip_address=HOST, port=port, verbose=False)
    server.start()
    endpoint = f"http://{HOST}:{port}"
    resources = provision.provision(endpoint, plan)
    print(
        f"AWS emulator at {endpoint} with {json.dumps(resources)}; MySQL relay at "
        f"127.0.0.1:{relay_port} → {mysql_upstream}",
        flush=True,
    )
    ready_file.parent.mkdir(parents=True, exist_ok=True)
    ready_file.write_text(json.dumps(resources, indent=2), encoding="utf-8")

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    ready_file.unlink(missing_ok=True)
    server.stop()


if __name__ == "__main__":
    main()
