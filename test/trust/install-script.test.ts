import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { repoRoot } from '../helpers/datasets.js';

/** systemd/install.sh (dry run: nothing on the system changes): one install, and the refusals up front. */
const script = join(repoRoot, 'systemd', 'install.sh');
const dryRun = (env: Record<string, string | undefined>) =>
  spawnSync('sh', [script, '--dry-run', '--no-start'], { encoding: 'utf8', env: { ...process.env, SUDO_USER: '', ...env } });
const inHome = /^\/(home|root)\//.test(process.execPath) ? `this test's Node is in a home folder (${process.execPath})` : false;

test('one install: npm ci once in the checkout, production pruning in /opt without scripts, a facegate command', { skip: inHome }, () => {
  const dry = dryRun({ FACEGATE_NODE: process.execPath });
  assert.equal(dry.status, 0, dry.stderr);
  assert.equal(dry.stdout.match(/npm ci/g)?.length, 1, dry.stdout);
  assert.doesNotMatch(dry.stdout, /--omit=dev --no-audit --no-fund"?\s*$|npm ci --omit=dev/m);
  assert.match(dry.stdout, /cp -R \S+\/node_modules \/opt\/facegate\/node_modules/);
  assert.match(dry.stdout, /cd '\/opt\/facegate' && \S*npm prune --omit=dev --ignore-scripts/);
  assert.match(dry.stdout, /prune-runtime\.sh \/opt\/facegate/);
  assert.match(dry.stdout, /install \/usr\/local\/bin\/facegate \(exec \/opt\/facegate\/bin\/facegate with NODE_BINARY=\S+node/);
});

test('a Node in a home folder (nvm) is refused: the unit cannot see it behind ProtectHome', (t) => {
  const home = homedir();
  if (!/^\/(home|root)\//.test(`${home}/`)) return t.skip(`home folder ${home} is not under /home or /root`);
  const fakeNvm = mkdtempSync(join(home, '.facegate-nvm-'));
  t.after(() => rmSync(fakeNvm, { recursive: true, force: true }));
  const node = join(fakeNvm, 'node');
  writeFileSync(node, `#!/bin/sh\nexec '${process.execPath}' "$@"\n`);
  chmodSync(node, 0o755);
  const dry = dryRun({ FACEGATE_NODE: node });
  assert.equal(dry.status, 1);
  assert.match(dry.stderr, /lives in a home folder, which the service cannot see \(ProtectHome=true\)/);
});

test('a Node older than 22 is refused by name and version', (t) => {
  const old = ['/usr/bin/node', '/usr/local/bin/node'].find((n) => {
    try {
      return Number(execFileSync(n, ['-p', 'process.versions.node.split(".")[0]'], { encoding: 'utf8' })) < 22;
    } catch {
      return false;
    }
  });
  if (!old) return t.skip('no Node older than 22 installed');
  const dry = dryRun({ FACEGATE_NODE: old });
  assert.equal(dry.status, 1);
  assert.match(dry.stderr, /facegate needs Node 22 or newer/);
});

test('missing build tools are named before anything is installed', { skip: inHome }, (t) => {
  // A PATH with every usual command except the compilers, make and python3.
  const bin = mkdtempSync(join(tmpdir(), 'facegate-nobuild-'));
  t.after(() => rmSync(bin, { recursive: true, force: true }));
  const hidden = new Set(['make', 'g++', 'c++', 'gcc', 'cc', 'python3']);
  for (const dir of ['/usr/local/bin', '/usr/bin', '/bin']) {
    for (const name of readdirSync(dir)) {
      if (hidden.has(name) || name.startsWith('python')) continue;
      try {
        symlinkSync(join(dir, name), join(bin, name));
      } catch {
        // already linked from an earlier folder
      }
    }
  }
  const dry = dryRun({ FACEGATE_NODE: process.execPath, PATH: `${dirname(process.execPath)}:${bin}` });
  assert.equal(dry.status, 1, dry.stdout);
  assert.match(dry.stderr, /build tools missing: make g\+\+ python3 .*sudo apt install build-essential python3/);
  assert.doesNotMatch(dry.stdout, /npm ci/, 'nothing was started');
});
