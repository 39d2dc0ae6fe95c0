#!/usr/bin/env bash
# make test-scaffold: what `make new-function` writes passes the checks as it is written. In a
# throwaway copy of this tree (what git tracks or would track, as it is now), it scaffolds a
# function, then runs `make validate` and `make unit` there, and the parts of `make lint` that
# read the new crate: formatting, clippy on it, the docs check.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
copy="$(mktemp -d "${TMPDIR:-/tmp}/cafe-scaffold.XXXXXX")"
trap 'rm -rf "$copy"' EXIT
# Not a name the scaffold's own tests make, since they run here too (in make validate).
name=tasting-notes

cd "$root"
git ls-files --cached --others --exclude-standard -z | tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -xf - -C "$copy"
# The tools this tree installed, shared rather than installed again.
for tools in .venv .venv-checkov node_modules; do ln -s "$root/$tools" "$copy/$tools"; done
# The compiled dependencies too (the copy's own crates build apart: their paths differ).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"

cd "$copy"
git init --quiet && git add --all
make --no-print-directory new-function NAME=$name DESCRIPTION="Records what the baristas note about each bean"
git add --all
keep_tools=(-o .venv/.installed -o node_modules/.installed -o .venv-checkov/.installed)
make --no-print-directory "${keep_tools[@]}" validate
cargo fmt --all --check
cargo clippy --package $name --all-targets -- -D warnings
python3 tests/docs.py
make --no-print-directory "${keep_tools[@]}" unit
echo "make new-function NAME=$name: validate, fmt, clippy, the docs check and unit all pass"
