import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './helpers/datasets.js';

const script = join(repoRoot, 'scripts', 'check-layout.mjs');

function tree(t: { after(fn: () => void): void }, files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'facegate-layout-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

const filler = (n: number) => Array.from({ length: n }, (_, i) => `// ${i}`).join('\n');
const run = (dir: string) => spawnSync(process.execPath, [script, dir], { encoding: 'utf8' });

test('the layout check passes src/ as it is', () => {
  const result = run(join(repoRoot, 'src'));
  assert.equal(result.status, 0, result.stderr);
});

test('a cycle between folders fails the layout check, even through a dynamic import', (t) => {
  const base = { 'a/x.ts': `${filler(300)}\nexport const x = () => import('../b/y.js');\n`, 'c/z.ts': filler(300), 'd/w.ts': filler(300), 'e/v.ts': filler(300), 'f/u.ts': filler(300), 'g/t.ts': filler(300) };
  assert.equal(run(tree(t, { ...base, 'b/y.ts': `${filler(300)}\nexport const y = 1;\n` })).status, 0);
  const cyclic = run(tree(t, { ...base, 'b/y.ts': `${filler(300)}\nimport { x } from '../a/x.js';\nexport const y = x;\n` }));
  assert.equal(cyclic.status, 1);
  assert.match(cyclic.stderr, /folder import cycle: a\/ -> b\/ -> a\//);
});

test('an oversized file or folder fails the layout check', (t) => {
  const result = run(tree(t, { 'big/one.ts': filler(400), 'small/two.ts': filler(10) }));
  assert.equal(result.status, 1);
  assert.match(result.stderr, /big\/one\.ts: 400 lines/);
  assert.match(result.stderr, /big\/: 97\.\d % of src lines/);
});
