"""`make new-function` writes a whole function, fills every placeholder, and refuses what it cannot
make without touching the tree. (That what it writes passes every template check is
deploy/test_defects.py's `test_a_function_made_by_make_new_function`; that it builds, lints and
passes its tests is `make test-scaffold`.)

    python3 -m unittest scaffold/test_new_function.py
"""

import json
import re
import shutil
import tempfile
import tomllib
import unittest
from pathlib import Path

from scaffold import new_function

ROOT = Path(__file__).resolve().parent.parent


class Scaffolded(unittest.TestCase):
    def setUp(self):
        self.root = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, self.root)
        shutil.copy(ROOT / "template.yaml", self.root / "template.yaml")

    def tree(self):
        return sorted(str(p.relative_to(self.root)) for p in self.root.rglob("*") if p.is_file())

    def test_writes_the_crate_its_event_and_its_resources_with_every_placeholder_filled(self):
        description = 'Says: "which beans" # run low'
        new_function.scaffold(self.root, "stock-alert", description)
        self.assertEqual(
            self.tree(),
            [
                "events/stock-alert/default.json",
                "functions/stock-alert/Cargo.toml",
                "functions/stock-alert/src/lib.rs",
                "functions/stock-alert/src/main.rs",
                "functions/stock-alert/tests/sample_event.rs",
                "template.yaml",
            ],
        )
        for path in self.tree():
            text = (self.root / path).read_text()
            self.assertIsNone(re.search(r"@\w+@", text), f"{path} keeps a placeholder")
        manifest = tomllib.loads((self.root / "functions/stock-alert/Cargo.toml").read_text())
        self.assertEqual(manifest["package"]["name"], "stock-alert")
        self.assertEqual(manifest["package"]["description"], description)
        self.assertIn("stock_alert::handle", (self.root / "functions/stock-alert/src/main.rs").read_text())
        self.assertIn("pub enum StockAlertError", (self.root / "functions/stock-alert/src/lib.rs").read_text())
        json.loads((self.root / "events/stock-alert/default.json").read_text())

    def test_adds_the_function_to_the_dashboards_alarm_list_and_each_per_function_widget(self):
        new_function.scaffold(self.root, "stock-alert", "x")
        text = (self.root / "template.yaml").read_text()
        body = json.loads(
            re.sub(r"\$\{[^}]+\}", "0", text.split("DashboardBody: !Sub |", 1)[1].split("\nOutputs:", 1)[0])
        )
        widgets = {w["properties"].get("title"): w["properties"] for w in body["widgets"]}
        self.assertEqual(len(re.findall(r"\$\{StockAlert(Errors|Throttles)\.Arn\}", text)), 2)
        for title in new_function.FUNCTION_WIDGETS:
            self.assertEqual(widgets[title]["metrics"][-1][-1], {"label": "stock-alert"}, title)
        for mark in (new_function.RESOURCES_MARK, new_function.ALARMS_MARK):
            self.assertEqual(text.count(mark), 1, "the marks stay, for the next function")

    def test_a_second_function_goes_after_the_first(self):
        new_function.scaffold(self.root, "stock-alert", "x")
        new_function.scaffold(self.root, "daily-summary", "y")
        text = (self.root / "template.yaml").read_text()
        self.assertLess(text.index("  StockAlert:\n"), text.index("  DailySummary:\n"))
        self.assertIn(
            '{"label": "stock-alert"}],\n                ["Cafe", "ColdStart", "FunctionName", "${DailySummary}"', text
        )

    def test_refuses_what_it_cannot_make_and_leaves_the_tree_as_it_was(self):
        before = (self.root / "template.yaml").read_text()
        refused = {
            "Stock-Alert": "lowercase",
            "stock-": "lowercase",
            "stock--alert": "lowercase",
            "9lives": "lowercase",
            "a" * (new_function.MAX_NAME + 1): "at most",
            "report-mailer": "ReportMailer",
        }
        for name, reason in refused.items():
            with self.subTest(name=name), self.assertRaisesRegex(new_function.ScaffoldError, reason):
                new_function.scaffold(self.root, name, "x")
        with self.assertRaisesRegex(new_function.ScaffoldError, "DESCRIPTION"):
            new_function.scaffold(self.root, "stock-alert", "two\nlines")
        self.assertEqual(self.tree(), ["template.yaml"])
        self.assertEqual((self.root / "template.yaml").read_text(), before)
        new_function.scaffold(self.root, "a" * new_function.MAX_NAME, "the longest name")

    def test_refuses_the_name_of_a_package_the_workspace_has_or_uses(self):
        shutil.copy(ROOT / "Cargo.lock", self.root / "Cargo.lock")
        for name in ("cafe-shared", "tokio", "serde-json"):
            with self.subTest(name=name), self.assertRaisesRegex(new_function.ScaffoldError, "Cargo.lock"):
                new_function.scaffold(self.root, name, "x")

    def test_refuses_a_name_whose_crate_exists(self):
        (self.root / "functions/stock-alert").mkdir(parents=True)
        with self.assertRaisesRegex(new_function.ScaffoldError, "functions/stock-alert exists"):
            new_function.scaffold(self.root, "stock-alert", "x")


if __name__ == "__main__":
    unittest.main()
