"""The docs check catches each kind of stale doc: every test plants one in a copy of the real
pages and expects tests/docs.py to name it; the pages as they are pass.

    python3 -m unittest tests/test_docs.py
"""

import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import docs


class TheDocs(unittest.TestCase):
    def setUp(self):
        self.pages = docs.the_docs(docs.ROOT)

    def found(self):
        return docs.problems(docs.ROOT, self.pages)

    def plant(self, page, text):
        self.pages[page] += f"\n{text}\n"

    def test_as_they_are_agree_with_the_repository(self):
        self.assertEqual(self.found(), [])

    def test_a_stale_path(self):
        self.plant("docs/architecture.md", "The writer's logic is in `functions/order-writer/src/gone.rs`.")
        self.assertIn("docs/architecture.md: functions/order-writer/src/gone.rs does not exist", self.found())

    def test_a_stale_path_in_braces(self):
        self.plant("docs/architecture.md", "See `local/gateway/src/{api,gone}.rs`.")
        self.assertEqual(self.found(), ["docs/architecture.md: local/gateway/src/gone.rs does not exist"])

    def test_a_verb_the_makefile_lacks(self):
        self.plant("README.md", "```sh\nmake deploy-everything\n```")
        self.assertIn("README.md: `make deploy-everything` is no Makefile target", self.found())

    def test_a_verb_documented_nowhere(self):
        for page, text in self.pages.items():
            self.pages[page] = text.replace("make parked", "make p-a-r-k-e-d")
        self.assertIn("make parked is documented nowhere", self.found())

    def test_a_crate_that_is_gone(self):
        self.plant("docs/testing.md", "`cargo test -p order-printer`")
        self.assertIn("docs/testing.md: crate order-printer is not in the workspace", self.found())

    def test_a_variable_nothing_reads(self):
        self.plant(docs.CONFIGURATION, "| `COFFEE_QUEUE_URL` | unset | nothing |")
        self.assertIn(f"{docs.CONFIGURATION}: COFFEE_QUEUE_URL is read by nothing", self.found())

    def test_a_variable_read_but_undocumented(self):
        lines = self.pages[docs.CONFIGURATION].splitlines()
        self.pages[docs.CONFIGURATION] = "\n".join(line for line in lines if not line.startswith("| `DB_TLS`"))
        self.assertIn(f"DB_TLS is read by the code but not in {docs.CONFIGURATION}", self.found())

    def test_a_stale_crate_graph(self):
        page = self.pages[docs.ARCHITECTURE]
        self.pages[docs.ARCHITECTURE] = page.replace(
            "cafe-ops             -> cafe-event-sources, cafe-shared",
            "cafe-ops             -> cafe-event-sources, cafe-shared, order-notifier",
        )
        self.assertIn(
            f"{docs.ARCHITECTURE}: the crate graph is not what cargo metadata says: run make docs", self.found()
        )

    def test_generated_paths_and_patterns_are_not_paths(self):
        self.plant("docs/testing.md", "`target/faults/load.json`, `events/<function>.json`, `application/json`")
        self.assertEqual(self.found(), [])


if __name__ == "__main__":
    unittest.main()
