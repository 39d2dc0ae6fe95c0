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


GROUP = re.compile(r"\b(crate|super)((?:::\w+)*)::\{")


def expanded(group: str, prefix: str) -> list[tuple[str, str]]:
    """(start, rest) of every path in a `{a, b::c, d::{e, f}}` group under `prefix`."""
    items, depth, current = [], 0, ""
    for c in group:
        if c == "," and depth == 0:
            items.append(current)
            current = ""
            continue
        depth += {"{": 1, "}": -1}.get(c, 0)
        current += c
    items.append(current)
    start, _, rest = prefix.partition("::")
    found = []
    for item in (i.strip().split(" as ")[0].strip() for i in items):
        if not item or item == "self":
            found.append((start, f"::{rest}" if rest else ""))
        elif "{" in item:
            head, _, inner = item.partition("{")
            found += expanded(inner.rsplit("}", 1)[0], f"{prefix}::{head.rstrip(':')}")
        else:
            found.append((start, f"::{rest}::{item}" if rest else f"::{item}"))
    return found


def named_paths(text: str) -> list[tuple[str, str]]:
    """(`crate` or `super`, the rest of the path) of every path the code names, groups expanded."""
    paths = PATH.findall(text)
    for match in GROUP.finditer(text):
        depth, end = 1, match.end()
        while depth and end < len(text):
            depth += {"{": 1, "}": -1}.get(text[end], 0)
            end += 1
        paths += expanded(text[match.end() : end - 1], match.group(1) + match.group(2))
    return paths


def uses(module: tuple[str, ...], text: str, modules: set) -> set:
    """The modules `text` names, read to the last part of each path that is a module."""
    found = set()
    # `super` in a.rs or a/mod.rs is a's parent; `crate` is the root.
    parent = module[:-1]
    for start, rest in named_paths(COMMENT.sub("", text)):
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
