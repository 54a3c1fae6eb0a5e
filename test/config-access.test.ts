import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './helpers/datasets.js';

/**
 * /etc/facegate is 0750 root:facegate: an operator's `facegate doctor` must hear "permission denied, run as the
 * facegate user", not "file not found" for a file that is there.
 */
test('a config file the user may not read is named as such, not as missing', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'facegate-etc-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'config.json');
  writeFileSync(file, '{}');
  chmodSync(dir, 0o700);
  const asRoot = process.getuid?.() === 0;
  if (!asRoot) chmodSync(file, 0o000);
  // As root, the CLI runs as "nobody" (root reads anything); otherwise the file itself is made unreadable.
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli.ts'), 'config', 'print', '--config', file], {
    cwd: repoRoot, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: tmpdir() }, ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
  });
  if (asRoot && /EACCES|permission denied, open/i.test(r.stderr) && !/config\.json/.test(r.stderr)) {
    return t.skip(`the checkout is not readable by nobody: ${r.stderr.slice(0, 200)}`);
  }
  assert.equal(r.status, 78, r.stderr);
  assert.match(r.stderr, new RegExp(`permission denied reading ${file}: run as the facegate user`));
  assert.doesNotMatch(r.stderr, /file not found/);
  const missing = spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli.ts'), 'config', 'print', '--config', join(tmpdir(), 'no-such-facegate.json')], { cwd: repoRoot, encoding: 'utf8' });
  assert.match(missing.stderr, /file not found/);
});
