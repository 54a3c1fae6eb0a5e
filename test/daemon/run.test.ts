import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import sharp from 'sharp';
import { repoRoot } from '../helpers/datasets.js';

type LogLine = Record<string, unknown> & { msg?: string };

/** `facegate run` as a real process, its JSON log lines readable as they arrive. */
class Daemon {
  readonly lines: LogLine[] = [];
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private waiters: Array<() => void> = [];
  private readonly child: ChildProcess;

  constructor(configFile: string, env: NodeJS.ProcessEnv = {}) {
    this.child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'run', '--config', configFile], {
      cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    });
    this.child.stdout!.on('data', (chunk: Buffer) => {
      this.stdout += chunk.toString();
      const complete = this.stdout.lastIndexOf('\n');
      const fresh = this.stdout.slice(0, complete + 1).split('\n').slice(this.lines.length).filter(Boolean);
      for (const text of fresh) this.lines.push(JSON.parse(text) as LogLine);
      for (const wake of this.waiters) wake();
    });
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
    void this.exited.then(() => this.waiters.forEach((wake) => wake()));
  }

  /** The first log line matching, waiting for it; fails if the process ends first. */
  async waitFor(match: (line: LogLine) => boolean, what: string, deadlineMs = 60_000): Promise<LogLine> {
    // A deadline so that a broken daemon fails this test instead of hanging the whole run.
    const deadline = setTimeout(() => this.waiters.forEach((wake) => wake()), deadlineMs);
    const expired = Date.now() + deadlineMs;
    try {
      return await this.poll(match, what, expired);
    } finally {
      clearTimeout(deadline);
    }
  }

  private async poll(match: (line: LogLine) => boolean, what: string, expired: number): Promise<LogLine> {
    for (;;) {
      const found = this.lines.find(match);
      if (found) return found;
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`daemon exited before logging ${what}\nstderr: ${this.stderr}\nstdout: ${this.stdout.slice(-3000)}`);
      }
      if (Date.now() >= expired) throw new Error(`daemon never logged ${what}\nstdout: ${this.stdout.slice(-3000)}`);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
      this.waiters = [];
    }
  }

  signal(name: NodeJS.Signals): void {
    this.child.kill(name);
  }

  /** SIGTERM, and a SIGKILL if it is still alive after `graceMs` (so a hung daemon fails the test, not the run). */
  async terminate(graceMs = 5000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    this.child.kill('SIGTERM');
    const killer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const result = await this.exited;
    clearTimeout(killer);
    return result;
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A temp data folder and a config for the embedded default, on a small committed model and the fixed crop. */
function setup(mqtt: Record<string, unknown>) {
  const root = mkdtempSync(join(tmpdir(), 'facegate-run-'));
  const config = join(root, 'config.json');
  writeFileSync(config, JSON.stringify({
    deviceId: 'test-door',
    paths: { data: join(root, 'data'), state: join(root, 'state') },
    model: { dir: join(repoRoot, 'test/fixtures/keras-seed'), backend: 'cpu' },
    vision: { detector: 'fixed' },
    camera: { driver: 'files' },
    gpio: { driver: 'simulated' },
    door: { cooldownMs: 100 },
    mqtt,
  }));
  return { root, config, cameraDir: join(root, 'data', 'camera'), cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** A face-sized picture of noise: enough for the fixed crop to cut a face out of and the model to score. */
async function writeFrame(path: string): Promise<void> {
  const width = 640;
  const height = 480;
  const pixels = Buffer.alloc(width * height * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 7919) % 251;
  writeFileSync(path, await sharp(pixels, { raw: { width, height, channels: 3 } }).png().toBuffer());
}

const SECRETS = { FACEGATE_MQTT_PASSWORD: 'pw-do-not-log-8472', FACEGATE_MQTT_UNLOCK_SECRET: 'unlock-secret-do-not-log-1234' };

test('facegate run: SIGUSR1 makes an attempt with a decision; SIGTERM exits 0 with the relay off; no secret is logged', async () => {
  const { config, cameraDir, cleanup } = setup({ enabled: false });
  const daemon = new Daemon(config, SECRETS);
  try {
    const running = await daemon.waitFor((l) => /facegate is running/.test(l.msg ?? ''), 'that it runs');
    assert.equal(running.pid !== undefined, true);
    await daemon.waitFor((l) => /no one is enrolled/.test(l.msg ?? ''), 'the enrolment hint');
    await daemon.waitFor((l) => /copy a photo of a face into/.test(l.msg ?? ''), 'the camera hint');

    daemon.signal('SIGUSR1');
    const empty = await daemon.waitFor((l) => l.event === 'attempt', 'an attempt with an empty camera folder');
    assert.equal(empty.decision, 'error');
    assert.equal(empty.trigger, 'signal');
    assert.match(String(empty.reason), /no frame/);

    await writeFrame(join(cameraDir, 'visitor.png'));
    await daemon.waitFor((l) => l.msg === 'door idle' && daemon.lines.indexOf(l) > daemon.lines.indexOf(empty), 'the end of the cooldown');
    daemon.signal('SIGUSR1');
    const real = await daemon.waitFor((l) => l.event === 'attempt' && l !== empty, 'an attempt on a real frame');
    assert.equal(real.decision, 'denied', `decision ${String(real.decision)}: ${String(real.reason)}`);
    assert.ok(daemon.lines.some((l) => l.attempt === real.attempt && l.msg === 'attempt started'), 'attempt logged under its id');

    const { code, signal } = await daemon.terminate();
    assert.equal(signal, null, 'exited by itself within 5 s');
    assert.equal(code, 0, daemon.stderr);
    assert.ok(daemon.lines.some((l) => l.msg === 'stopped: relay off' && l.relay === 'off'));
    for (const secret of Object.values(SECRETS)) assert.ok(!daemon.stdout.includes(secret) && !daemon.stderr.includes(secret), 'secret leaked');
  } finally {
    if (daemon.lines.every((l) => l.msg !== 'stopped: relay off')) await daemon.terminate(1000);
    cleanup();
  }
});

test('facegate run with MQTT: online on the availability topic, SIGUSR1 -> attempt event, offline at SIGTERM', async () => {
  const port = await freePort();
  const url = `mqtt://127.0.0.1:${port}`;
  const { config, cleanup } = setup({ enabled: true, url, embedded: 'always' });
  // Secrets in use this time (the bridge logs in with them; unlock is on): still never in the output.
  const daemon = new Daemon(config, { ...SECRETS, FACEGATE_MQTT_USERNAME: 'door', FACEGATE_MQTT_UNLOCK_ENABLED: 'true' });
  const received: Array<{ topic: string; payload: string }> = [];
  let client: Awaited<ReturnType<typeof connectAsync>> | null = null;
  try {
    await daemon.waitFor((l) => /facegate is running/.test(l.msg ?? ''), 'that it runs');
    // The embedded broker asks for the configured credentials (issue 12: it used to let anyone in).
    client = await connectAsync(url, { reconnectPeriod: 0, username: 'door', password: SECRETS.FACEGATE_MQTT_PASSWORD });
    const arrived = new Set<() => void>();
    client.on('message', (topic, payload) => {
      received.push({ topic, payload: payload.toString() });
      for (const wake of arrived) wake();
    });
    const waitMessage = async (match: (m: { topic: string; payload: string }) => boolean, what: string) => {
      const expired = Date.now() + 20_000;
      const tick = setInterval(() => arrived.forEach((wake) => wake()), 1000);
      try {
        for (;;) {
          const found = received.find(match);
          if (found) return found;
          if (Date.now() >= expired) {
            throw new Error(`no ${what} on MQTT within 20 s; got: ${received.map((m) => m.topic).join(', ')}`);
          }
          await new Promise<void>((resolve) => arrived.add(resolve));
          arrived.clear();
        }
      } finally {
        clearInterval(tick);
      }
    };
    await client.subscribeAsync('facegate/test-door/#');
    await waitMessage((m) => m.topic === 'facegate/test-door/availability' && m.payload === 'online', '"online"');

    daemon.signal('SIGUSR1');
    const attempt = await waitMessage((m) => m.topic === 'facegate/test-door/attempt', 'attempt event');
    const event = JSON.parse(attempt.payload) as { decision: string; trigger: string };
    assert.equal(event.trigger, 'signal');
    assert.equal(event.decision, 'error', 'empty camera folder');

    const { code, signal } = await daemon.terminate();
    assert.equal(signal, null);
    assert.equal(code, 0, daemon.stderr);
    await waitMessage((m) => m.topic === 'facegate/test-door/availability' && m.payload === 'offline', '"offline"');
    for (const secret of Object.values(SECRETS)) assert.ok(!daemon.stdout.includes(secret) && !daemon.stderr.includes(secret), 'secret leaked');
  } finally {
    if (daemon.lines.every((l) => l.msg !== 'stopped: relay off')) await daemon.terminate(1000);
    await client?.endAsync(true);
    cleanup();
  }
});
