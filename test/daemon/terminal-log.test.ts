import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import sharp from 'sharp';
import { repoRoot } from '../helpers/datasets.js';

/**
 * Logs a person can follow (issue 12 item 9): `facegate run` in a terminal-style (pretty) log prints one line
 * per entry and one line per decision, timings in whole ms, every simulated LED change, and offers key "v"
 * only when a keyboard really listens (here stdin is not a terminal, as under systemd).
 */
async function runOnce(pretty: 'always' | 'never', launcher = false): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), 'facegate-termlog-'));
  try {
    mkdirSync(join(root, 'data/camera'), { recursive: true });
    const noise = Buffer.from(Array.from({ length: 96 * 96 * 3 }, (_, i) => (i * 37) % 251));
    await sharp(noise, { raw: { width: 96, height: 96, channels: 3 } }).png().toFile(join(root, 'data/camera/frame.png'));
    const config = join(root, 'config.json');
    writeFileSync(config, JSON.stringify({
      paths: { data: join(root, 'data'), state: join(root, 'state') },
      model: { dir: join(repoRoot, 'test/fixtures/keras-seed'), backend: 'cpu' }, vision: { detector: 'fixed' },
      camera: { driver: 'files' }, gpio: { driver: 'simulated' }, keyboard: { enabled: true }, mqtt: { enabled: false },
      log: { pretty }, door: { resultMs: 200, cooldownMs: 0 },
    }));
    // bin/facegate is what systemd and npm start run (dist/, with its Node flags); execs node, same pid.
    const [command, args] = launcher ? [join(repoRoot, 'bin/facegate'), []] : [process.execPath, ['--import', 'tsx', 'src/cli.ts']];
    const child = spawn(command, [...args, 'run', '--config', config], {
      cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: process.env.PATH, HOME: root, NODE_BINARY: process.execPath },
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    const until = async (text: string) => {
      for (let i = 0; i < 1200 && !out.includes(text); i++) await new Promise((r) => setTimeout(r, 50));
      assert.ok(out.includes(text), `never logged "${text}":\n${out}`);
    };
    await until('facegate is running');
    child.kill('SIGUSR1');
    await until('led-red off');
    child.kill('SIGTERM');
    await exited;
    return out;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

test('in a terminal: one line per entry, the decision once, whole-ms timings, LED changes, no "press v" without a keyboard', async () => {
  // pino-pretty colours even into a pipe (colorize: true); the text is what matters here.
  const out = stripVTControlCharacters(await runOnce('always'));
  const lines = out.split('\n').filter(Boolean);
  for (const line of lines) assert.match(line, /^\[\d\d:\d\d:\d\d\.\d{3}\] (INFO|WARN|ERROR|DEBUG)/, `a line of its own per entry, not a continuation:\n${line}`);
  const decisions = lines.filter((l) => /attempt (granted|denied|no_face|error)/.test(l));
  assert.equal(decisions.length, 1, decisions.join('\n'));
  assert.match(decisions[0]!, /attempt denied \(gallery is empty[^)]*\) in \d+ ms \[signal\]/);
  assert.doesNotMatch(decisions[0]!.replace(/^\[[^\]]*\] /, ''), /\d\.\d{3,}/, 'timings rounded');
  for (const change of ['led-busy on', 'led-busy off', 'led-red on', 'led-red off']) assert.ok(out.includes(`${change} (simulated)`), `${change} logged`);
  assert.doesNotMatch(out, /press "v"/, 'stdin is not a terminal: no keyboard listens');
  assert.match(out, /facegate is running: press the button or send SIGUSR1/);
});

test('as JSON lines (journald): the decision is one info line, with rounded timings', async () => {
  const lines = (await runOnce('never')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  const decisions = lines.filter((l) => l.level === 30 && typeof l.decision === 'string');
  assert.equal(decisions.length, 1, JSON.stringify(decisions));
  for (const ms of Object.values(decisions[0]!.timings as Record<string, number>)) assert.ok(Number.isInteger(ms), `timing ${ms} rounded`);
});

const built = existsSync(join(repoRoot, 'dist/cli.js')) ? false : 'dist/ not built (npm run build)';

test('through bin/facegate, as systemd runs it, kill -USR1 is a press (the launcher must not swallow it)', { skip: built }, async () => {
  const lines = (await runOnce('never', true)).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(lines.filter((l) => l.event === 'attempt' && l.trigger === 'signal').length, 1);
});
