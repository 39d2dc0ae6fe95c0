"""The café's AWS on this machine: moto in server mode on 127.0.0.1:4566 (MOTO_PORT), with every
resource both pipelines use created in it under the names the deployed stack uses.

Run by the local stack (local/stack.py) as `python -m emulator` from local/; stops on Ctrl-C or SIGTERM.
Nothing is kept between runs. One job per module:

- `patches`: what is changed in moto. Lambda calls the real functions under `cargo lambda watch`
  and email subscribers' letters go to the mailbox, which moto cannot do without Docker; two
  races in moto are closed; permissive CORS is off and a client that stops sending is cut off;
  SQS message move tasks, which moto lacks, are answered `UnsupportedOperation` as AWS would.
- `guard`: only requests for this machine's loopback names, from no page or a page on this
  machine, are answered.
- `faults`: faults injected on request, for the fault tests (`make test-faults`), and the
  checks a fault rule passes on arrival.
- `relay`: the relay the functions reach MySQL through, which a `mysql` fault cuts off.
- `provision`: the queues, table, topics, bucket, state machine and Lambda registrations.
- `__main__`: the wiring: the settings from the environment, the server, the ready file.
"""

from pathlib import Path

# The workspace root, where `statemachine/` and `.local/` are.
ROOT = Path(__file__).resolve().parent.parent.parent
