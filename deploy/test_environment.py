"""Environments: each stack's parameters come from a tracked file of choices and the account's
answers, which git never holds; `make deploy-fn` executes only a change set of its own function.

    python3 -m unittest deploy/test_environment.py
"""

import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import change_set
import environment

ROOT = environment.ROOT
EXAMPLE = (environment.ENVIRONMENTS / "example.account").read_text()
# What an account's data looks like: ARNs, resource ids, email addresses.
ACCOUNT_DATA = re.compile(r"arn:aws|\b(vpc|subnet|sg|rtb)-[0-9a-f]{8,}|\b\d{12}\b|[\w.+-]+@[\w-]+\.[\w.]+")


class Environments(unittest.TestCase):
    def setUp(self):
        self.folder = pathlib.Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, self.folder)
        for tracked in environment.ENVIRONMENTS.glob("*.parameters"):
            shutil.copy(tracked, self.folder)

    def test_dev_and_prod_take_their_choices_and_the_accounts_answers(self):
        for name, rollout in (("dev", "AllAtOnce"), ("prod", "Canary10Percent5Minutes")):
            parameters = environment.overrides(name, {environment.ACCOUNT_VARIABLE: EXAMPLE}, self.folder)
            self.assertEqual(parameters["DeploymentType"], rollout)
            self.assertEqual(parameters["VpcId"], "vpc-0123456789abcdef0")
            line = environment.as_overrides(parameters)
            self.assertIn('DatabaseSubnetIds="subnet-0123456789abcdef0,subnet-0fedcba9876543210"', line)

    def test_every_account_answer_is_masked_in_the_actions_log(self):
        parameters = environment.overrides("dev", {environment.ACCOUNT_VARIABLE: EXAMPLE}, self.folder)
        masks = environment.masks(parameters)
        for value in ("vpc-0123456789abcdef0", "subnet-0fedcba9876543210", parameters["DatabaseSecretArn"]):
            self.assertIn(f"::add-mask::{value}", masks)
        self.assertNotIn(f"::add-mask::{parameters['DeploymentType']}", masks)  # a tracked choice

    def test_the_account_file_is_read_when_the_variable_is_not_set(self):
        (self.folder / "dev.account").write_text(EXAMPLE.replace("ops@example.com", "night shift <ops@example.com>"))
        parameters = environment.overrides("dev", {}, self.folder)
        self.assertEqual(parameters["OpsEmail"], "night shift <ops@example.com>")

    def test_the_sam_cli_reads_back_every_value_as_given(self):
        # As `sam deploy --parameter-overrides` parses the string (the SAM CLI of .venv).
        from samcli.cli.types import CfnParameterOverridesType

        parameters = {"OpsEmail": "night shift <ops@example.com>", "ManagerEmail": "", "DatabaseName": 'it\'s "COFFEE"'}
        line = environment.as_overrides(parameters)
        self.assertEqual(CfnParameterOverridesType().convert(line, None, None), parameters)

    def test_what_is_missing_or_wrong_is_named(self):
        cases = {
            "": "the account's answers are missing",
            EXAMPLE.replace("VpcId=", "# VpcId="): "does not set ['VpcId']",
            EXAMPLE + "\nVpcID=vpc-1\n": "['VpcID'] are not parameters of template.yaml",
            EXAMPLE + "\nnot a pair\n": "line",
        }
        for text, reason in cases.items():
            with self.subTest(reason=reason), self.assertRaisesRegex(environment.EnvironmentProblem, re.escape(reason)):
                environment.overrides("dev", {environment.ACCOUNT_VARIABLE: text}, self.folder)
        with self.assertRaisesRegex(environment.EnvironmentProblem, r"no deploy/environments/qa.parameters"):
            environment.overrides("qa", {environment.ACCOUNT_VARIABLE: EXAMPLE}, self.folder)

    def test_account_data_in_a_tracked_file_is_refused(self):
        (self.folder / "dev.parameters").write_text("DatabaseHost=db.example.com\n")
        with self.assertRaisesRegex(environment.EnvironmentProblem, "account data goes in the .account file"):
            environment.overrides("dev", {environment.ACCOUNT_VARIABLE: EXAMPLE}, self.folder)


class NothingOfAnAccountIsTracked(unittest.TestCase):
    def test_git_holds_no_account_file_and_no_account_data_in_the_settings(self):
        tracked = subprocess.run(
            ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.split()
        accounts = [path for path in tracked if path.endswith(".account") and not path.endswith("example.account")]
        self.assertEqual(accounts, [])
        for path in ["samconfig.toml", *(p for p in tracked if p.endswith(".parameters"))]:
            text = re.sub(r"#.*", "", (ROOT / path).read_text())
            self.assertIsNone(ACCOUNT_DATA.search(text), path)
        self.assertNotIn("parameter_overrides", (ROOT / "samconfig.toml").read_text())

    def test_each_environment_has_its_settings_and_its_own_stack(self):
        config = tomllib.loads((ROOT / "samconfig.toml").read_text())
        named = sorted(p.stem for p in environment.ENVIRONMENTS.glob("*.parameters"))
        self.assertEqual(named, ["dev", "prod"])
        stacks = [environment.stack_name(name) for name in named]
        self.assertEqual(len(set(stacks)), len(stacks))
        for name in named:
            self.assertEqual(config[name]["deploy"]["parameters"]["capabilities"], "CAPABILITY_IAM")
        # SAM's build cache keys on each function's folder alone: a change to shared/ would be
        # deployed stale.
        for name, sections in config.items():
            if isinstance(sections, dict) and "build" in sections:
                self.assertNotIn("cached", sections["build"]["parameters"], f"[{name}.build.parameters]")


class DeployFn(unittest.TestCase):
    def test_every_function_is_found_by_its_crate(self):
        for crate in sorted(p.name for p in (ROOT / "functions").iterdir()):
            logical = environment.logical_id(crate)
            self.assertRegex(logical, r"^[A-Z]\w+$")
        self.assertEqual(environment.logical_id("order-writer"), "OrderWriter")

    @staticmethod
    def change(logical, action="Modify"):
        return {"Type": "Resource", "ResourceChange": {"Action": action, "LogicalResourceId": logical}}

    def test_only_a_change_set_of_the_functions_own_resources_goes_ahead(self):
        own = [
            self.change("OrderWriter"),
            self.change("OrderWriterVersion1a2b3c4d5e", "Add"),
            self.change("OrderWriterAliaslive"),
            self.change("OrderWriterDeploymentGroup"),
            self.change("OrderWriterNewVersionErrors"),
        ]
        self.assertEqual(change_set.changes_beyond("OrderWriter", own), [])
        beyond = [*own, self.change("OrderWriterRole"), self.change("OrderNotifier")]
        self.assertEqual(
            change_set.changes_beyond("OrderWriter", beyond), ["Modify OrderWriterRole", "Modify OrderNotifier"]
        )

    def test_the_newest_ready_change_set_is_the_one_executed(self):
        sets = [
            {"ChangeSetId": "older", "ExecutionStatus": "AVAILABLE", "Status": "CREATE_COMPLETE", "CreationTime": 5},
            {"ChangeSetId": "a", "ExecutionStatus": "AVAILABLE", "Status": "CREATE_COMPLETE", "CreationTime": 11},
            {"ChangeSetId": "b", "ExecutionStatus": "AVAILABLE", "Status": "CREATE_COMPLETE", "CreationTime": 12},
            {"ChangeSetId": "c", "ExecutionStatus": "UNAVAILABLE", "Status": "FAILED", "CreationTime": 13},
        ]
        self.assertEqual(change_set.newest_available(sets, since=10)["ChangeSetId"], "b")
        self.assertIsNone(change_set.newest_available(sets[3:], since=10))
        # One made before sam deploy ran (waiting for someone's confirmation) is never taken.
        self.assertIsNone(change_set.newest_available(sets[:1], since=10))


if __name__ == "__main__":
    unittest.main()
