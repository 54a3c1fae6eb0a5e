import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './helpers/datasets.js';

/** What `npm install` does to a fresh clone, and which dependency install scripts the project vouches for. */
const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  engines: { node: string }; allowScripts: Record<string, boolean>; dependencies: Record<string, string>;
  optionalDependencies?: Record<string, string>;
};

test('npm install leaves package-lock.json as committed, with no user npmrc (a fresh Pi)', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'facegate-lock-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const file of ['package.json', 'package-lock.json', '.npmrc']) copyFileSync(join(repoRoot, file), join(dir, file));
  const env = { ...process.env, npm_config_userconfig: join(dir, 'no-user-npmrc') };
  const r = spawnSync('npm', ['install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: dir, encoding: 'utf8', env, timeout: 120_000 });
  if (r.status !== 0 && /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|network/i.test(r.stderr)) return t.skip(`npm registry unreachable: ${r.stderr.split('\n')[0]}`);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readFileSync(join(dir, 'package-lock.json'), 'utf8'), readFileSync(join(repoRoot, 'package-lock.json'), 'utf8'), 'npm install rewrote the lock file');
});

test('Node 22+ is enforced at install, and nothing a door does not need installs by default', () => {
  assert.equal(pkg.engines.node, '>=22');
  assert.match(readFileSync(join(repoRoot, '.npmrc'), 'utf8'), /^engine-strict=true$/m);
  assert.equal(pkg.optionalDependencies, undefined, 'tfjs-node is opt-in (an optional peer), not tried on every Pi');
  for (const name of ['vega', 'vega-lite', '@tensorflow/tfjs-node']) assert.ok(!(name in pkg.dependencies), `${name} is not a runtime dependency`);
});

/** Every installed package with an install-time script, read from node_modules. */
function packagesWithInstallScripts(): string[] {
  const found = new Set<string>();
  const visit = (modules: string) => {
    if (!existsSync(modules)) return;
    for (const entry of readdirSync(modules)) {
      if (entry.startsWith('.')) continue;
      const dirs = entry.startsWith('@') ? readdirSync(join(modules, entry)).map((n) => join(entry, n)) : [entry];
      for (const name of dirs) {
        const manifest = join(modules, name, 'package.json');
        if (!existsSync(manifest)) continue;
        const scripts = (JSON.parse(readFileSync(manifest, 'utf8')) as { scripts?: Record<string, string> }).scripts ?? {};
        const gyp = existsSync(join(modules, name, 'binding.gyp'));
        if (scripts.preinstall || scripts.install || scripts.postinstall || gyp) found.add(name);
        visit(join(modules, name, 'node_modules'));
      }
    }
  };
  visit(join(repoRoot, 'node_modules'));
  return [...found].sort();
}

test('every dependency install script is declared in allowScripts (npm 12 skips undeclared ones), epoll allowed', () => {
  const undeclared = packagesWithInstallScripts().filter((name) => !(name in pkg.allowScripts));
  assert.deepEqual(undeclared, [], 'approve or deny them: npm install-scripts approve|deny NAME');
  assert.equal(pkg.allowScripts.epoll, true, "onoff's native addon must be built");
  assert.ok(existsSync(join(repoRoot, 'node_modules/epoll/build/Release/epoll.node')), 'and npm ci really built it');
});
