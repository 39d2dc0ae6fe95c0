"""The import-loop check finds a loop through `crate::` and `super::` paths, long or short, and
nothing where there is none.

    python3 -m unittest tests/test_import_loops.py
"""

import tempfile
import unittest
from pathlib import Path

from tests.import_loops import loops_in


def crate(files: dict[str, str]) -> Path:
    src = Path(tempfile.mkdtemp()) / "src"
    for name, text in files.items():
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_text(text)
    return src


class ImportLoops(unittest.TestCase):
    def test_two_modules_using_each_other(self):
        src = crate(
            {
                "lib.rs": "pub mod api;\npub mod ops;",
                "api.rs": "use crate::ops::gather;",
                "ops.rs": "fn f(a: &crate::api::Api) {}",
            }
        )
        self.assertEqual(len(loops_in(src)), 1)
        self.assertEqual(sorted(loops_in(src)[0]), ["api", "ops"])

    def test_a_loop_through_a_child_by_super(self):
        src = crate(
            {
                "lib.rs": "pub mod mappings;\npub mod position;",
                "mappings/mod.rs": "pub mod stream;",
                "mappings/stream.rs": "use crate::position::StreamPosition;",
                "position.rs": "use crate::mappings::stream::sequence;",
            }
        )
        self.assertEqual(sorted(loops_in(src)[0]), ["mappings::stream", "position"])

    def test_a_loop_through_grouped_imports(self):
        src = crate(
            {
                "lib.rs": "pub mod api;\npub mod ops;\npub mod mappings;",
                "api.rs": "use crate::{mappings, ops::{gather, html}};",
                "mappings/mod.rs": "pub mod position;",
                "mappings/position.rs": "",
                "ops.rs": "use super::{mappings::position::P, api::Api as A};",
            }
        )
        self.assertEqual([sorted(loop) for loop in loops_in(src)], [["api", "ops"]])

    def test_a_longer_loop(self):
        src = crate({"lib.rs": "", "a.rs": "use crate::b::X;", "b.rs": "use crate::c::Y;", "c.rs": "use super::a::Z;"})
        self.assertEqual(sorted(loops_in(src)[0]), ["a", "b", "c"])

    def test_none_in_a_tree_of_uses_or_in_comments(self):
        src = crate(
            {
                "lib.rs": "pub mod a;\npub mod b;\npub struct Aws;",
                "a.rs": "use crate::Aws;\nuse crate::b::X; // crate::a is not named by b",
                "b.rs": "use crate::Aws;\n// see crate::a::f\npub struct X;",
            }
        )
        self.assertEqual(loops_in(src), [])


if __name__ == "__main__":
    unittest.main()
