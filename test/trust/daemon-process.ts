import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { signUnlock } from '../../src/mqtt/commands.js';
import { repoRoot } from '../helpers/datasets.js';

export type LogLine = Record<string, unknown> & { msg?: string; level?: number };

/** `facegate run` as a real process (simulated GPIO, files camera, embedded broker), its JSON log readable live. */
export class DaemonProcess {
  readonly lines: LogLine[] = [];
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private buffer = '';
  private wake: Array<() => void> = [];
  private readonly child: ChildProcess;

  constructor(configFile: string, preload: string[] = []) {
    const args = ['--import', 'tsx', ...preload.flatMap((p) => ['--import', p]), 'src/cli.ts', 'run', '--config', configFile];
    this.child = spawn(process.execPath, args, {
      cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH, HOME: process.env.HOME },
    });
    this.child.stdout!.on('data', (chunk: Buffer) => {
      this.buffer += chunk.toString();
      const end = this.buffer.lastIndexOf('\n');
      for (const text of this.buffer.slice(0, end + 1).split('\n').filter(Boolean)) {
        try {
          this.lines.push(JSON.parse(text) as LogLine);
        } catch {
          this.lines.push({ msg: text });
        }
      }
      this.buffer = this.buffer.slice(end + 1);
      this.notify();
    });
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
    void this.exited.then(() => this.notify());
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Index of the first log line matching (after `from`), waiting for it; throws if the process ends first. */
  async waitFor(match: (line: LogLine) => boolean, what: string, from = 0): Promise<number> {
    for (;;) {
      const index = this.lines.findIndex((l, i) => i >= from && match(l));
      if (index >= 0) return index;
      if (!this.alive) throw new Error(`daemon exited before ${what}\nstderr: ${this.stderr.slice(-2000)}\nlog: ${JSON.stringify(this.lines.slice(-8))}`);
      await new Promise<void>((resolve) => this.wake.push(resolve));
    }
  }

  signal(name: NodeJS.Signals): void {
    this.child.kill(name);
  }

  /** Makes sure nothing is left running, whatever the test did. */
  async kill(): Promise<void> {
    if (!this.alive) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  private notify(): void {
    const waiting = this.wake;
    this.wake = [];
    for (const resolve of waiting) resolve();
  }
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export const DEVICE = 'trust-door';
export const UNLOCK_SECRET = 'trust-test-unlock-secret-0123456789';

/** A temp config: embedded broker on `port`, remote unlock on, a long pulse, the small committed test model. */
export function doorConfig(port: number, extra: Record<string, unknown> = {}) {
  const root = mkdtempSync(join(tmpdir(), 'facegate-trust-'));
  const file = join(root, 'config.json');
  writeFileSync(file, JSON.stringify({
    deviceId: DEVICE,
    paths: { data: join(root, 'data'), state: join(root, 'state') },
    model: { dir: join(repoRoot, 'test/fixtures/keras-seed'), backend: 'cpu' },
    vision: { detector: 'fixed' },
    camera: { driver: 'files' },
    gpio: { driver: 'simulated' },
    keyboard: { enabled: false },
    door: { unlockMs: 10000, maxUnlockMs: 10000 },
    mqtt: { enabled: true, url: `mqtt://127.0.0.1:${port}`, embedded: 'always', homeAssistant: { enabled: false },
      unlock: { enabled: true, secret: UNLOCK_SECRET } },
    ...extra,
  }));
  return { root, file, remove: () => rmSync(root, { recursive: true, force: true }) };
}

/** An MQTT client that remembers every message on the door's topics. */
export async function watchDoor(port: number) {
  const client: MqttClient = await connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0 });
  const messages: Array<{ topic: string; payload: string }> = [];
  let wake: Array<() => void> = [];
  client.on('message', (topic, payload) => {
    messages.push({ topic, payload: payload.toString() });
    const waiting = wake;
    wake = [];
    waiting.forEach((resolve) => resolve());
  });
  await client.subscribeAsync(`facegate/${DEVICE}/#`);
  return {
    messages,
    async waitFor(match: (m: { topic: string; payload: string }) => boolean) {
      for (;;) {
        const found = messages.find(match);
        if (found) return found;
        await new Promise<void>((resolve) => wake.push(resolve));
      }
    },
    async unlock() {
      const id = `unlock-${Date.now()}`;
      const ts = Date.now();
      const hmac = signUnlock(UNLOCK_SECRET, DEVICE, id, ts);
      await client.publishAsync(`facegate/${DEVICE}/cmd/unlock`, JSON.stringify({ id, ts, hmac }), { qos: 1 });
    },
    close: () => client.endAsync(true),
  };
}
