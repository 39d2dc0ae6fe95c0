"""The docs check (`make lint`): what README.md and docs/*.md name exists, and what exists is
documented.

- every `make VERB` they name is a Makefile target, and every verb `make help` lists is named;
- every file path they name in backticks exists (a path under target/ or .local/ is made by a
  run, and a pattern such as `events/<function>.json` is not a path);
- every crate they name (`-p NAME`, `--package NAME`) is a workspace package;
- every environment variable in the first column of docs/configuration.md's tables is read by
  the code, and every variable the code reads is in one of those tables;
- the crate graph in docs/architecture.md is the one `cargo metadata` gives.

    python3 tests/docs.py           # prints each problem; exits 1 if there is one
    python3 tests/docs.py --write   # (make docs) writes the crate graph into docs/architecture.md
"""

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIGURATION = "docs/configuration.md"
ARCHITECTURE = "docs/architecture.md"
GRAPH = re.compile(r"(<!-- crate graph: .*? -->\n```\n)(.*?)(```\n)", re.S)
# Made by a run, not kept in git.
GENERATED = ("target/", ".local/", ".venv", "node_modules/")
# What the platform or the toolchain sets, read by the code but not ours to document.
PLATFORM_VARIABLES = {"CARGO_MANIFEST_DIR", "PYENV_ROOT", "AWS_LAMBDA_FUNCTION_NAME"}
# How the code reads a variable: Rust's std::env, Python's os.environ, and our own helpers.
READS = re.compile(
    r"""(?:env::var(?:_os)?|os\.environ\.get|os\.getenv|getenv|setting|lookup|set|(?<![\w.])get)\(\s*["']([A-Z][A-Z0-9_]+)["']"""
    r"""|os\.environ\[["']([A-Z][A-Z0-9_]+)["']\]"""
    r"""|name: "([A-Z][A-Z0-9_]+)","""
)
# This check and its tests name variables that are no one's.
OWN_FILES = ("tests/docs.py", "tests/test_docs.py")
BACKTICKED = re.compile(r"`([^`\n]+)`")
MAKE_VERB = re.compile(r"^make ([a-z][a-z0-9-]*)")
PACKAGE = re.compile(r"(?:-p|--package)[ =]([a-z][a-z0-9_-]*)")
FILE_LIKE = re.compile(r"^[\w./{},-]+$")
EXTENSIONS = (".rs", ".py", ".md", ".json", ".yaml", ".yml", ".toml", ".sql", ".sh", ".mjs", ".txt", ".html", ".pem")


def tracked_files(root: Path) -> list[str]:
    return subprocess.run(["git", "ls-files"], cwd=root, check=True, capture_output=True, text=True).stdout.split()


def make_targets(root: Path) -> tuple[set[str], set[str]]:
    """Every target of the Makefile, and those `make help` lists (a `## ` comment)."""
    targets, listed = set(), set()
    for line in (root / "Makefile").read_text().splitlines():
        match = re.match(r"^([a-z][a-z0-9-]*(?: [a-z][a-z0-9-]*)*):(?!=)", line)
        if match:
            names = match.group(1).split()
            targets.update(names)
            if " ## " in line:
                listed.update(names)
    return targets, listed


def packages(root: Path) -> set[str]:
    names = set()
    for manifest in root.glob("**/Cargo.toml"):
        parts = manifest.relative_to(root).parts
        # scaffold/function/ is what `make new-function` fills in, not a crate yet.
        if any(part in ("target", "node_modules") or part.startswith(".") for part in parts) or parts[0] == "scaffold":
            continue
        parsed = tomllib.loads(manifest.read_text())
        if "name" in parsed.get("package", {}):
            names.add(parsed["package"]["name"])
            names.update(b["name"] for b in parsed.get("bin", []))
    return names


def expand_braces(path: str) -> list[str]:
    match = re.search(r"\{([^{}]+)\}", path)
    if not match:
        return [path]
    return [
        p
        for choice in match.group(1).split(",")
        for p in expand_braces(path[: match.start()] + choice + path[match.end() :])
    ]


def named_paths(text: str, top_level: set[str]) -> set[str]:
    """The repository paths a text names in backticks: those under one of `top_level`'s entries."""
    paths = set()
    for token in BACKTICKED.findall(text):
        token = token.strip().rstrip(".,:;")
        token = re.sub(r":\d+$", "", token)
        if not FILE_LIKE.match(token) or token.startswith(("-", "/", "http")):
            continue
        if "/" not in token and not token.endswith(EXTENSIONS):
            continue
        if "/" not in token or token.split("/")[0] not in top_level:
            continue  # a bare file name or one relative to a crate: the text around it says where
        paths.update(expand_braces(token))
    return paths


def make_verbs(text: str) -> list[str]:
    """The verbs of the `make …` commands a text names: in backticks, or a code block's lines."""
    commands = [t.strip() for t in BACKTICKED.findall(text)]
    in_block = False
    for line in text.splitlines():
        if line.startswith("```"):
            in_block = not in_block
        elif in_block:
            commands.append(line.strip())
    return [m.group(1) for c in commands for m in [MAKE_VERB.match(c)] if m]


def documented_variables(configuration: str) -> set[str]:
    found = set()
    for line in configuration.splitlines():
        if line.startswith("| ") and not line.startswith("| ---"):
            first_cell = line.split("|")[1]
            found.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", first_cell))
    return found


def read_variables(root: Path, files: list[str]) -> set[str]:
    found = set()
    for name in files:
        if name.endswith((".rs", ".py")):
            for groups in READS.findall((root / name).read_text(errors="replace")):
                # A variable's name has an underscore; a word in capitals (a currency) need not.
                found.update(g for g in groups if "_" in g)
    return found


def mentioned_anywhere(root: Path, files: list[str], variable: str) -> bool:
    """Whether the code or the template names `variable` (read through some helper)."""
    for name in files:
        if name in OWN_FILES:
            continue
        if name.endswith((".rs", ".py", "Makefile", ".yaml")) and re.search(
            rf"""["'$({{ ]{variable}["')}} =]""", (root / name).read_text(errors="replace")
        ):
            return True
    return False


def problems(root: Path, docs: dict[str, str]) -> list[str]:
    """What is wrong with `docs` (file name → text) against the repository at `root`."""
    found = []
    files = tracked_files(root)
    existing = (
        set(files)
        | {str(Path(f).parent) for f in files}
        | {str(p) for f in files for p in Path(f).parents if str(p) != "."}
    )
    top_level = {f.split("/")[0] for f in files} | {g.rstrip("/").split("/")[0] for g in GENERATED}
    targets, listed = make_targets(root)
    crates = packages(root)
    everything = "\n".join(docs.values())
    for doc, text in docs.items():
        for verb in sorted(set(make_verbs(text))):
            if verb not in targets:
                found.append(f"{doc}: `make {verb}` is no Makefile target")
        for path in sorted(named_paths(text, top_level)):
            if path.startswith(GENERATED) or "<" in path or "*" in path:
                continue
            if path.rstrip("/") not in existing:
                found.append(f"{doc}: {path} does not exist")
        for crate in sorted(set(PACKAGE.findall(text))):
            if crate not in crates:
                found.append(f"{doc}: crate {crate} is not in the workspace")
    for verb in sorted(listed):
        if not re.search(rf"\bmake {re.escape(verb)}\b", everything):
            found.append(f"make {verb} is documented nowhere")
    configuration = docs.get(CONFIGURATION, "")
    documented = documented_variables(configuration)
    for variable in sorted(documented):
        if not mentioned_anywhere(root, files, variable):
            found.append(f"{CONFIGURATION}: {variable} is read by nothing")
    for variable in sorted(read_variables(root, files) - documented - PLATFORM_VARIABLES):
        found.append(f"{variable} is read by the code but not in {CONFIGURATION}")
    graph = graph_problem(root, docs.get(ARCHITECTURE, ""))
    if graph:
        found.append(graph)
    return found


def crate_graph(root: Path) -> str:
    """Each workspace crate and the workspace crates it depends on, as `cargo metadata` says."""
    metadata = json.loads(
        subprocess.run(
            ["cargo", "metadata", "--format-version", "1", "--no-deps"],
            cwd=root,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    members = {p["name"] for p in metadata["packages"]}
    lines = []
    for package in sorted(metadata["packages"], key=lambda p: p["name"]):
        uses = {
            kind: sorted({d["name"] for d in package["dependencies"] if d["name"] in members and d["kind"] == kind})
            for kind in (None, "dev")
        }
        tests = sorted(set(uses["dev"]) - set(uses[None]))
        line = f"{package['name']:<20} -> {', '.join(uses[None]) or '-'}"
        lines.append(line + (f"   (tests: {', '.join(tests)})" if tests else ""))
    return "\n".join(lines) + "\n"


def graph_problem(root: Path, architecture: str) -> str | None:
    block = GRAPH.search(architecture)
    if not block:
        return f"{ARCHITECTURE}: no generated crate graph (its marker comment is gone)"
    if block.group(2) != crate_graph(root):
        return f"{ARCHITECTURE}: the crate graph is not what cargo metadata says: run make docs"
    return None


def write_graph(root: Path) -> None:
    page = root / ARCHITECTURE
    text = page.read_text()
    page.write_text(GRAPH.sub(lambda m: m.group(1) + crate_graph(root) + m.group(3), text))


def the_docs(root: Path) -> dict[str, str]:
    names = ["README.md", *sorted(str(p.relative_to(root)) for p in (root / "docs").glob("*.md"))]
    return {name: (root / name).read_text() for name in names}


def main() -> int:
    if sys.argv[1:] == ["--write"]:
        write_graph(ROOT)
    found = problems(ROOT, the_docs(ROOT))
    for problem in found:
        print(f"docs: {problem}", file=sys.stderr)
    if not found:
        print(f"docs: {len(the_docs(ROOT))} pages agree with the repository")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
