"""No module imports a module that imports it back (`make lint`), in every crate of the workspace.

A module is a file: `src/lib.rs` or `src/main.rs` is the crate's root, `src/a.rs` and
`src/a/mod.rs` are `a`, `src/a/b.rs` is `a::b`. A module uses another when its code names it by a
`crate::` or `super::` path (in a `use` or in place); the path is read up to the last module it
names. Declaring a submodule (`mod b;`) is not a use.

    python3 tests/import_loops.py        # prints each loop; exits 1 if there is one
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PATH = re.compile(r"\b(crate|super)((?:::\w+)+)")
COMMENT = re.compile(r"//.*")


def module_of(src: Path, file: Path) -> tuple[str, ...]:
    parts = file.relative_to(src).with_suffix("").parts
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return tuple(parts)


def uses(module: tuple[str, ...], text: str, modules: set) -> set:
    """The modules `text` names, read to the last part of each path that is a module."""
    found = set()
    # `super` in a.rs or a/mod.rs is a's parent; `crate` is the root.
    parent = module[:-1]
    for start, rest in PATH.findall(COMMENT.sub("", text)):
        base = () if start == "crate" else parent
        names = [name for name in rest.split("::") if name]
        while names and names[0] == "super":
            base, names = base[:-1], names[1:]
        target = base
        for name in names:
            if (*target, name) not in modules:
                break
            target = (*target, name)
        if target != module:
            found.add(target)
    return found


def loops_in(src: Path) -> list[list[str]]:
    files = {module_of(src, f): f for f in src.rglob("*.rs") if f.name != "main.rs" or f.parent == src}
    modules = set(files)
    graph = {m: uses(m, f.read_text(encoding="utf-8"), modules) for m, f in files.items()}
    loops = []
    for module, targets in graph.items():
        for target in targets:
            # A use back from the target, or from a module the target reaches (a longer loop).
            path = reach(graph, target, module)
            if path and sorted([module, *path]) not in [sorted(loop) for loop in loops]:
                loops.append([module, *path])
    return [["::".join(m) or "crate" for m in loop] for loop in loops]


def reach(graph: dict, start: tuple, goal: tuple) -> list | None:
    """A path of uses from `start` back to `goal` (without `goal`), or None."""
    seen, stack = set(), [(start, [start])]
    while stack:
        node, path = stack.pop()
        for target in graph.get(node, ()):
            if target == goal:
                return path
            if target not in seen:
                seen.add(target)
                stack.append((target, [*path, target]))
    return None


def main() -> int:
    problems = []
    for src in sorted(ROOT.glob("*/src")) + sorted(ROOT.glob("*/*/src")):
        if not (src.parent / "Cargo.toml").is_file() or src.parent.name.startswith((".", "target")):
            continue
        for loop in loops_in(src):
            problems.append(f"{src.relative_to(ROOT)}: {' -> '.join(loop)} -> {loop[0]}")
    for problem in problems:
        print(f"import loop: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
