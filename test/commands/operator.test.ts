import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { snapshotPath } from '../../src/audit/files.js';
import { AuditLog } from '../../src/audit/log.js';
import { attempt, memoryLogger } from '../audit/helpers.js';
import { cli, tempDir } from '../helpers/cli.js';
import { repoRoot } from '../helpers/datasets.js';

/** The operator's CLI (issue 12 item 7): what a person types at a terminal gets a straight answer. */

test('--version prints the package version; run --help is help, not a configuration error', async (t) => {
  const dir = tempDir(t);
  const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
  const v = await cli(dir, ['--version']);
  assert.equal(v.code, 0, v.stderr);
  assert.match(v.stdout, new RegExp(`^facegate ${version.replace(/\./g, '\\.')} \\(Node v\\d+`));
  const help = await cli(dir, ['run', '--help']);
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /usage: facegate run/);
});

test('every command names an unknown option and the nearest known one', async (t) => {
  const dir = tempDir(t);
  // A typo of the command's own option comes first, before its other checks; a mistyped setting after them.
  const ownTypos = [['verify', 'jsn', 'json'], ['enroll', 'jsn', 'json'], ['gallery', 'jsn', 'json'], ['evaluate', 'jsn', 'json'],
    ['doctor', 'jsn', 'json'], ['audit', 'jsn', 'json'], ['train', 'epoch', 'epochs'], ['collect', 'margn', 'margin']] as const;
  for (const [command, typo, meant] of ownTypos) {
    const r = await cli(dir, [command, `--${typo}`, '1']);
    assert.equal(r.code, 78, `${command}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`unknown option --${typo} \\(did you mean --${meant}\\?\\)`), command);
  }
  for (const args of [['run'], ['collect'], ['config', 'print'], ['gallery', 'list'], ['doctor']]) {
    const r = await cli(dir, [...args, '--log-levle', 'debug']);
    assert.equal(r.code, 78, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /unknown option --log-levle \(did you mean --log-level\?\)/, args.join(' '));
  }
});

test('a value-taking flag without its value says so', async (t) => {
  const dir = tempDir(t);
  for (const args of [['verify', '--image'], ['verify', '--image', '--json'], ['run', '--log-level'], ['enroll', 'ann', '--images']]) {
    const r = await cli(dir, args);
    assert.equal(r.code, 78, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`${args.find((a) => a !== '--json' && a.startsWith('--'))}: needs a value`), args.join(' '));
  }
});

test('audit --snapshots shows where each attempt\'s face image is', async (t) => {
  const dir = tempDir(t);
  const state = join(dir, 'state');
  const log = new AuditLog({ stateDir: state, snapshots: true, retention: { retentionDays: 30, maxBytes: 1e9 }, log: memoryLogger().log });
  const now = Date.now();
  const withFace = attempt(new Date(now - 60_000).toISOString(), 'granted', { identity: 'alice' });
  const withoutFace = attempt(new Date(now - 30_000).toISOString(), 'no_face');
  await log.attempt(withFace, Buffer.from([0xff, 0xd8, 0xff, 0xd9]));
  await log.attempt(withoutFace);
  await log.close();
  const file = snapshotPath(join(state, 'audit'), withFace);
  assert.ok(existsSync(file), 'the audit log kept the face');

  const table = await cli(dir, ['audit', '--snapshots']);
  assert.equal(table.code, 0, table.stderr);
  const lines = table.stdout.trim().split('\n');
  assert.match(lines[0]!, /snapshot$/);
  assert.ok(lines[1]!.endsWith(file), lines[1]);
  assert.match(lines[2]!, /no_face.*\s-$/);

  const json = await cli(dir, ['audit', '--snapshots', '--json']);
  const records = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { snapshot: string | null });
  assert.deepEqual(records.map((r) => r.snapshot), [file, null]);
});

const hasScript = spawnSync('script', ['--version']).status === 0 ? false : 'util-linux `script` (a pseudo-terminal) is not installed';

test('gallery remove asks at a terminal and keeps the person on "n"; --yes does not ask', { skip: hasScript }, (t) => {
  const dir = tempDir(t);
  const gallery = join(dir, 'gallery');
  for (const name of ['Bob', 'Eve']) {
    mkdirSync(join(gallery, name), { recursive: true });
    writeFileSync(join(gallery, name, 'a.jpg'), '');
  }
  // `script` gives the CLI a real terminal on stdin, as a person at a shell has; the answer is typed into it.
  const atTerminal = (answer: string, args: string[]) => {
    const command = [process.execPath, '--import', 'tsx', join(repoRoot, 'src/cli.ts'), 'gallery', 'remove', ...args, '--gallery', gallery].map((a) => `'${a}'`).join(' ');
    const r = spawnSync('script', ['-qec', command, '/dev/null'], { cwd: repoRoot, input: `${answer}\n`, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: dir } });
    return { code: r.status, out: r.stdout };
  };
  const no = atTerminal('n', ['Bob']);
  assert.match(no.out, /remove Bob \(1 image\(s\)\) from .*\? \[y\/N\]/);
  assert.equal(no.code, 1);
  assert.ok(existsSync(join(gallery, 'Bob')), 'Bob is kept after "n"');
  const yes = atTerminal('y', ['Bob']);
  assert.equal(yes.code, 0, yes.out);
  assert.ok(!existsSync(join(gallery, 'Bob')));
  const flagged = atTerminal('', ['Eve', '--yes']);
  assert.equal(flagged.code, 0, flagged.out);
  assert.doesNotMatch(flagged.out, /\[y\/N\]/);
  assert.ok(!existsSync(join(gallery, 'Eve')));
});

/** An installed Node older than 22 to start the CLI with: the machine's own node in CI (FACEGATE_OLD_NODE). */
function oldNode(): string | null {
  for (const candidate of [process.env.FACEGATE_OLD_NODE, '/usr/bin/node', '/usr/local/bin/node']) {
    if (!candidate || !existsSync(candidate)) continue;
    const version = execFileSync(candidate, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim();
    if (Number(version.split('.')[0]) < 22) return candidate;
  }
  return null;
}
const old = oldNode();

test('on a Node older than 22 the CLI says which Node it needs and found, exit 78', { skip: old ? false : 'no Node older than 22 installed (set FACEGATE_OLD_NODE)' }, () => {
  const version = execFileSync(old!, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim();
  for (const args of [['--version'], ['doctor']]) {
    const r = spawnSync(old!, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: repoRoot, encoding: 'utf8' });
    assert.equal(r.status, 78, r.stderr);
    assert.match(r.stderr, new RegExp(`^facegate needs Node >= 22; found ${version.replace(/\./g, '\\.')}`));
    assert.doesNotMatch(r.stderr, /model|sharp/i, 'the real cause, not a model error');
  }
});
