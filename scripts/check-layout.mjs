#!/usr/bin/env node
// The house rules Biome cannot check (run by `npm run lint` after `biome lint`; see docs/architecture.md):
// - no cycle between top-level folders of src/ (Biome's noImportCycles checks files; two folders importing
//   each other through different files is still a tangle), dynamic import() included;
// - no folder holds more than MAX_FOLDER_SHARE of src/ lines; no file is longer than MAX_FILE_LINES.
// Exit 1 with one line per problem. Usage: node scripts/check-layout.mjs [SRC_DIR]
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const MAX_FOLDER_SHARE = 0.2;
const MAX_FILE_LINES = 360;

const src = resolve(process.argv[2] ?? 'src');
const files = [];
const collect = (dir) => {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) collect(path);
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) files.push(path);
  }
};
collect(src);

/** Top-level folder of a file under src/ ('' for files directly in src/, which count as their own unit). */
const unitOf = (file) => {
  const parts = relative(src, file).split(sep);
  return parts.length > 1 ? `${parts[0]}/` : parts[0];
};

const problems = [];
const linesOf = new Map();
const folderEdges = new Map();
// Relative specifiers in `from '...'`, `import '...'` and `import('...')`.
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"](\.{1,2}\/[^'"]+)['"]/g;
for (const file of files) {
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n').length;
  linesOf.set(file, lines);
  if (lines > MAX_FILE_LINES) problems.push(`${relative(src, file)}: ${lines} lines (limit ${MAX_FILE_LINES}): split it by concern`);
  const from = unitOf(file);
  for (const [, specifier] of text.matchAll(SPECIFIER)) {
    const target = resolve(dirname(file), specifier);
    if (!target.startsWith(src + sep)) continue;
    const to = unitOf(target.replace(/\.js$/, '.ts'));
    if (to === from) continue;
    if (!folderEdges.has(from)) folderEdges.set(from, new Set());
    folderEdges.get(from).add(to);
  }
}

// Folder cycles: a depth-first search that reports each back edge's loop once.
const state = new Map(); // unit -> 'open' | 'done'
const path = [];
const seen = new Set();
const visit = (unit) => {
  state.set(unit, 'open');
  path.push(unit);
  for (const next of folderEdges.get(unit) ?? []) {
    if (state.get(next) === 'open') {
      const loop = [...path.slice(path.indexOf(next)), next].join(' -> ');
      if (!seen.has(loop)) problems.push(`folder import cycle: ${loop}`);
      seen.add(loop);
    } else if (!state.has(next)) visit(next);
  }
  path.pop();
  state.set(unit, 'done');
};
for (const unit of [...folderEdges.keys()].sort()) if (!state.has(unit)) visit(unit);

const total = [...linesOf.values()].reduce((a, b) => a + b, 0);
const perFolder = new Map();
for (const [file, lines] of linesOf) {
  const unit = unitOf(file);
  if (unit.endsWith('/')) perFolder.set(unit, (perFolder.get(unit) ?? 0) + lines);
}
for (const [unit, lines] of perFolder) {
  if (lines / total > MAX_FOLDER_SHARE) problems.push(`${unit}: ${((100 * lines) / total).toFixed(1)} % of src lines (limit ${100 * MAX_FOLDER_SHARE} %): split it by concern`);
}

if (problems.length) {
  for (const problem of problems) console.error(`check-layout: ${problem}`);
  process.exit(1);
}
console.log(`check-layout: ${files.length} files, ${total} lines, no folder cycle, largest folder ${Math.max(...perFolder.values())} lines`);
