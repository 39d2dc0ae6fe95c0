"""One stack per environment: what `make deploy ENV=<name>` (and `destroy`, `deploy-fn`, `logs`)
hands the SAM CLI.

An environment is two sets of `Key=Value` lines (`#` starts a comment):

- `deploy/environments/<name>.parameters`, tracked: the choices that hold in any account (how
  rollouts go, how long logs are kept);
- the account's own answers (VPC, subnets, database host, the secret's ARN, email addresses),
  which never go into git: the file `deploy/environments/<name>.account` (git-ignored; start from
  `deploy/environments/example.account`), or the variable `CAFE_ACCOUNT_PARAMETERS` (what CI sets
  from the environment's settings).

The stack's name and the SAM CLI's settings per environment are in samconfig.toml (`[<name>.…]`).

    python3 deploy/environment.py overrides dev           # sam deploy's --parameter-overrides
    python3 deploy/environment.py check dev               # exits 1, saying what is wrong
    python3 deploy/environment.py logical-id order-writer # a function's logical id in template.yaml
    python3 deploy/environment.py mask dev                # GitHub Actions: hide the account's answers in the log
"""

from __future__ import annotations

import os
import re
import shlex
import sys
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENTS = ROOT / "deploy" / "environments"
ACCOUNT_VARIABLE = "CAFE_ACCOUNT_PARAMETERS"
# Parameters whose values name an account's resources or people: never in a tracked file.
ACCOUNT_PARAMETERS = {
    "DatabaseHost",
    "DatabaseSecretArn",
    "VpcId",
    "DatabaseSubnetIds",
    "DatabaseSecurityGroupId",
    "PrivateRouteTableIds",
    "OrdersEmail",
    "ManagerEmail",
    "OpsEmail",
}


class EnvironmentProblem(Exception):
    """The environment cannot be deployed as it is; the message says why and what to do."""


def parse(text: str, source: str) -> dict[str, str]:
    """`Key=Value` lines; a value may be quoted as a shell would quote it."""
    found: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, equals, value = line.partition("=")
        if not equals or not re.fullmatch(r"[A-Za-z0-9]+", key.strip()):
            raise EnvironmentProblem(f"{source}, line {number}: not Key=Value: {line!r}")
        words = shlex.split(value, comments=True)
        found[key.strip()] = " ".join(words)
    return found


def template_parameters(template: Path = ROOT / "template.yaml") -> dict[str, dict[str, Any]]:
    """The template's parameters (read as text: the keys and whether each has a Default)."""
    section = template.read_text(encoding="utf-8").split("\nParameters:\n", 1)[1].split("\n\n", 1)[0]
    parameters: dict[str, dict[str, Any]] = {}
    current = ""
    for line in section.splitlines():
        if re.fullmatch(r"  [A-Za-z0-9]+:", line):
            current = line.strip().rstrip(":")
            parameters[current] = {"default": False}
        elif current and re.match(r"    Default:", line):
            parameters[current]["default"] = True
    return parameters


def account_text(name: str, environ: dict[str, str], environments: Path = ENVIRONMENTS) -> tuple[str, str]:
    """The account's answers for the environment, and where they came from."""
    if environ.get(ACCOUNT_VARIABLE, "").strip():
        return environ[ACCOUNT_VARIABLE], ACCOUNT_VARIABLE
    path = environments / f"{name}.account"
    if not path.is_file():
        raise EnvironmentProblem(
            f"ENV={name}: the account's answers are missing: copy deploy/environments/example.account "
            f"to deploy/environments/{name}.account (git-ignored) and fill it in, or set {ACCOUNT_VARIABLE}"
        )
    return path.read_text(encoding="utf-8"), f"deploy/environments/{name}.account"


def overrides(
    name: str,
    environ: dict[str, str],
    environments: Path = ENVIRONMENTS,
    template: Path = ROOT / "template.yaml",
) -> dict[str, str]:
    """Every parameter the environment sets: its tracked choices, then the account's answers."""
    tracked_path = environments / f"{name}.parameters"
    if not tracked_path.is_file():
        known = sorted(p.stem for p in environments.glob("*.parameters"))
        raise EnvironmentProblem(f"ENV={name}: no deploy/environments/{name}.parameters (environments: {known})")
    tracked = parse(tracked_path.read_text(encoding="utf-8"), f"deploy/environments/{name}.parameters")
    in_git = sorted(set(tracked) & ACCOUNT_PARAMETERS)
    if in_git:
        raise EnvironmentProblem(
            f"deploy/environments/{name}.parameters sets {in_git}: account data goes in the .account file"
        )
    text, source = account_text(name, environ, environments)
    account = parse(text, source)
    parameters = template_parameters(template)
    unknown = sorted((set(tracked) | set(account)) - set(parameters))
    if unknown:
        raise EnvironmentProblem(f"ENV={name}: {unknown} are not parameters of template.yaml")
    merged = {**tracked, **account}
    missing = sorted(p for p, spec in parameters.items() if not spec["default"] and not merged.get(p))
    if missing:
        raise EnvironmentProblem(f"ENV={name}: {source} does not set {missing}, which have no default")
    return merged


def as_overrides(parameters: dict[str, str]) -> str:
    """The string `sam deploy --parameter-overrides` reads: `Key="Value"` pairs, each value in
    double quotes with its double quotes escaped (how the SAM CLI unquotes them). An empty value is
    given as such: left out, the stack would keep the value it had (UsePreviousValue)."""
    return " ".join('{}="{}"'.format(key, value.replace('"', '\\"')) for key, value in parameters.items())


def masks(parameters: dict[str, str]) -> list[str]:
    """GitHub Actions' commands that hide the account's answers wherever the log would show them
    (sam deploy prints its parameter overrides): each value, and each item of a list."""
    values = {v for k, v in parameters.items() if k in ACCOUNT_PARAMETERS and v.strip()}
    values |= {item.strip() for v in values for item in v.split(",") if item.strip()}
    return [f"::add-mask::{value}" for value in sorted(values)]


def functions(template: Path = ROOT / "template.yaml") -> list[tuple[str, str]]:
    """(logical id, crate) of every function, from the template's CodeUri (read as text)."""
    pattern = r"\n  (\w+):\n    Type: AWS::Serverless::Function\n(?:(?!\n  \w).)*?CodeUri: functions/([\w-]+)\n"
    return re.findall(pattern, template.read_text(encoding="utf-8"), re.S)


def logical_id(function: str, template: Path = ROOT / "template.yaml") -> str:
    """The logical id of the function whose code is functions/<function>."""
    found = [logical for logical, crate in functions(template) if crate == function]
    if len(found) != 1:
        raise EnvironmentProblem(f"FN={function}: no function in template.yaml has CodeUri functions/{function}")
    return found[0]


def stack_name(name: str) -> str:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text(encoding="utf-8"))
    try:
        return str(config[name]["global"]["parameters"]["stack_name"])
    except KeyError:
        raise EnvironmentProblem(f"ENV={name}: samconfig.toml has no [{name}.global.parameters] stack_name") from None


def main(argv: list[str]) -> int:
    try:
        match argv:
            case ["overrides", name]:
                print(as_overrides(overrides(name, dict(os.environ))))
            case ["check", name]:
                overrides(name, dict(os.environ))
                stack_name(name)
            case ["mask", name]:
                print("\n".join(masks(overrides(name, dict(os.environ)))))
            case ["stack", name]:
                print(stack_name(name))
            case ["logical-id", function]:
                print(logical_id(function))
            case _:
                print(__doc__, file=sys.stderr)
                return 2
    except EnvironmentProblem as error:
        print(f"deploy: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
