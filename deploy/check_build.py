"""`make build`, after `sam build`: what it made is what Lambda runs, zipped as Lambda takes it.

For every function of template.yaml, `.aws-sam/build/<LogicalId>/bootstrap` must be there and be
a 64-bit little-endian ELF executable for aarch64 (the template's `Architectures: [arm64]`); it is
zipped (executable, deflated) into `<target>/lambda/<function>/bootstrap.zip`, where
`make bench` reads the sizes, and the zip must be at most `MAX_ZIP_BYTES` (bench/src/report.rs).

    python3 deploy/check_build.py
"""

import os
import re
import sys
import zipfile
from pathlib import Path

from environment import functions

ROOT = Path(__file__).resolve().parent.parent
BUILT = ROOT / ".aws-sam" / "build"
TARGET = Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target")
# ELF: the magic, then EI_CLASS 2 (64-bit) and EI_DATA 1 (little-endian); e_machine at offset 18.
ELF64_LITTLE = b"\x7fELF\x02\x01"
EM_AARCH64 = 183
ET_EXEC, ET_DYN = 2, 3


def max_zip_bytes(source=ROOT / "bench" / "src" / "report.rs"):
    found = re.search(r"pub const MAX_ZIP_BYTES: u64 = ([\d_]+);", source.read_text(encoding="utf-8"))
    if not found:
        raise SystemExit(f"check_build.py: {source} no longer has MAX_ZIP_BYTES as this reads it")
    return int(found.group(1).replace("_", ""))


def elf_problem(path):
    """Why the file is not an aarch64 executable Lambda can run, or None."""
    head = path.read_bytes()[:20]
    if not head.startswith(ELF64_LITTLE):
        return "not a 64-bit little-endian ELF file"
    kind, machine = int.from_bytes(head[16:18], "little"), int.from_bytes(head[18:20], "little")
    if machine != EM_AARCH64:
        return f"built for ELF machine {machine}, not aarch64 ({EM_AARCH64})"
    if kind not in (ET_EXEC, ET_DYN):
        return f"ELF type {kind} is not an executable"
    if not os.access(path, os.X_OK):
        return "not executable"
    return None


def zipped(bootstrap, destination):
    """`bootstrap` zipped as Lambda takes it (executable), at `destination`; its size in bytes."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    entry = zipfile.ZipInfo("bootstrap", date_time=(1980, 1, 1, 0, 0, 0))
    entry.external_attr = 0o100755 << 16
    entry.compress_type = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(destination, "w") as archive:
        archive.writestr(entry, bootstrap.read_bytes(), compresslevel=9)
    return destination.stat().st_size


def check(built=BUILT, target=TARGET, limit=None):
    limit = limit or max_zip_bytes()
    problems, lines = [], []
    for logical, crate in functions():
        bootstrap = built / logical / "bootstrap"
        if not bootstrap.is_file():
            problems.append(
                f"{crate}: sam build made no {bootstrap.relative_to(ROOT) if bootstrap.is_relative_to(ROOT) else bootstrap}"
            )
            continue
        problem = elf_problem(bootstrap)
        if problem:
            problems.append(f"{crate}: {problem}")
            continue
        size = zipped(bootstrap, target / "lambda" / crate / "bootstrap.zip")
        lines.append(f"{crate:<18} aarch64 ELF, zip {size} bytes")
        if size > limit:
            problems.append(f"{crate}: its zip is {size} bytes, more than {limit}")
    return lines, problems


def main():
    lines, problems = check()
    print("\n".join(lines))
    for problem in problems:
        print(f"build: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
