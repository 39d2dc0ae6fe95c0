"""What `make build` checks of `sam build`'s output: each function's bootstrap is an aarch64 ELF
executable and its zip stays within the size the benchmarks promise.

    python3 -m unittest deploy/test_build.py
"""

import pathlib
import shutil
import sys
import tempfile
import unittest
import zipfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import check_build


def elf(machine, kind=2):
    """The first bytes of an ELF64 little-endian file for `machine`, padded."""
    return b"\x7fELF\x02\x01\x01" + bytes(9) + kind.to_bytes(2, "little") + machine.to_bytes(2, "little") + bytes(200)


class Build(unittest.TestCase):
    def setUp(self):
        self.folder = pathlib.Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, self.folder)
        self.built, self.target = self.folder / "build", self.folder / "target"

    def build(self, contents, executable=True):
        for logical, _ in check_build.functions():
            bootstrap = self.built / logical / "bootstrap"
            bootstrap.parent.mkdir(parents=True)
            bootstrap.write_bytes(contents)
            bootstrap.chmod(0o755 if executable else 0o644)

    def test_every_function_of_the_template_is_expected(self):
        crates = sorted(crate for _, crate in check_build.functions())
        self.assertEqual(crates, sorted(p.name for p in (check_build.ROOT / "functions").iterdir()))

    def test_aarch64_executables_are_zipped_for_lambda(self):
        self.build(elf(check_build.EM_AARCH64))
        lines, problems = check_build.check(self.built, self.target)
        self.assertEqual(problems, [])
        self.assertEqual(len(lines), len(check_build.functions()))
        with zipfile.ZipFile(self.target / "lambda" / "order-writer" / "bootstrap.zip") as archive:
            (entry,) = archive.infolist()
            self.assertEqual(entry.filename, "bootstrap")
            self.assertEqual(entry.external_attr >> 16, 0o100755)

    def test_an_x86_64_build_a_missing_one_and_one_not_executable_are_refused(self):
        self.build(elf(62))
        self.assertIn("built for ELF machine 62, not aarch64", "\n".join(check_build.check(self.built, self.target)[1]))
        shutil.rmtree(self.built)
        self.build(elf(check_build.EM_AARCH64), executable=False)
        self.assertIn("not executable", "\n".join(check_build.check(self.built, self.target)[1]))
        shutil.rmtree(self.built / "OrderWriter")
        self.assertIn("order-writer: sam build made no", "\n".join(check_build.check(self.built, self.target)[1]))

    def test_a_zip_over_the_promise_is_refused(self):
        self.build(elf(check_build.EM_AARCH64))
        problems = check_build.check(self.built, self.target, limit=10)[1]
        self.assertIn("more than 10", "\n".join(problems))
        self.assertEqual(check_build.max_zip_bytes(), 6_000_000)


if __name__ == "__main__":
    unittest.main()
