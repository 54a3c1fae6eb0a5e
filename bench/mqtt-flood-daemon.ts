/**
 * The same yardstick as bench/mqtt-flood.ts, on the real daemon: `facegate run` as its own process (embedded
 * default parts, the small committed test model), a 50 MB publish to cmd/unlock, a signed unlock sent while it
 * streams in. Reports the daemon's VmRSS (from /proc, sampled every 20 ms) before, at its peak and after, and
 * the signed unlock's answer time. Usage: npm run bench:mqtt-daemon -- [--broker embedded|mosquitto] [--protocol 5|4] [--mb 50]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { signUnlock } from '../src/mqtt/commands.js';
import { isPortAnswering } from '../src/mqtt/broker.js';
import { freePort, observe } from '../test/helpers/broker.js';
import { repoRoot } from '../test/helpers/datasets.js';
import { floodPublish } from '../test/helpers/flood.js';

const { values } = parseArgs({ options: {
  broker: { type: 'string', default: 'embedded' }, mb: { type: 'string', default: '50' }, protocol: { type: 'string', default: '5' },
} });
const SECRET = 'bench secret, long enough to sign';
const USER = { username: 'bench', password: 'bench broker password' };
const embedded = values.broker !== 'mosquitto';
const url = embedded ? `mqtt://127.0.0.1:${await freePort()}` : 'mqtt://127.0.0.1:1883';
const deviceId = `bench-door-${process.pid}`;
const work = mkdtempSync(join(tmpdir(), 'facegate-flood-'));
const config = join(work, 'config.json');
writeFileSync(config, JSON.stringify({
  deviceId,
  paths: { data: join(work, 'data'), state: join(work, 'state') },
  model: { dir: join(repoRoot, 'test/fixtures/keras-seed'), backend: 'cpu' },
  vision: { detector: 'fixed' }, camera: { driver: 'files' }, gpio: { driver: 'simulated' }, keyboard: { enabled: false },
  mqtt: { url, embedded: embedded ? 'always' : 'never', protocolVersion: Number(values.protocol), ...(embedded ? USER : {}), unlock: { enabled: true, secret: SECRET }, homeAssistant: { enabled: false } },
}));
const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'run', '--config', config], {
  cwd: repoRoot, stdio: ['ignore', process.env.FACEGATE_BENCH_LOG ? 'inherit' : 'ignore', 'inherit'], env: { PATH: process.env.PATH, HOME: process.env.HOME, FACEGATE_LOG_LEVEL: process.env.FACEGATE_BENCH_LOG ?? 'warn' },
});
const rssMb = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) / 1024;
const credentials = embedded ? USER : {};
try {
  const root = `facegate/${deviceId}`;
  // The daemon starts its embedded broker after GPIO, camera and model: wait for it to listen.
  while (!(await isPortAnswering('127.0.0.1', Number(new URL(url).port)))) await new Promise((resolve) => setTimeout(resolve, 200));
  const watcher = await observe(url, [`${root}/availability`, `${root}/cmd/unlock/result`], { ...credentials, reconnectPeriod: 500 });
  await watcher.next(`${root}/availability`, (p) => p.toString() === 'online');
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const before = rssMb();
  let peak = before;
  const timer = setInterval(() => (peak = Math.max(peak, rssMb())), 20);
  const flood = floodPublish(url, `${root}/cmd/unlock`, Number(values.mb) * 1024 * 1024, credentials);
  flood.catch(() => undefined); // awaited below; a refusal must not end this process before the daemon is stopped
  await new Promise((resolve) => setTimeout(resolve, 20));
  const id = `bench-${Date.now()}`;
  const ts = Date.now();
  const sentAt = performance.now();
  await watcher.client.publishAsync(`${root}/cmd/unlock`, JSON.stringify({ id, ts, hmac: signUnlock(SECRET, deviceId, id, ts) }), { qos: 1 });
  const result = JSON.parse((await watcher.next(`${root}/cmd/unlock/result`, (p) => p.includes(id))).toString()) as { ok: boolean };
  const answeredMs = performance.now() - sentAt;
  const flooded = await flood;
  await new Promise((resolve) => setTimeout(resolve, 1000));
  clearInterval(timer);
  const after = rssMb();
  console.log(JSON.stringify({
    broker: values.broker, protocol: Number(values.protocol), mb: Number(values.mb), floodWrittenMb: +(flooded.written / 1048576).toFixed(1),
    rssBeforeMb: +before.toFixed(1), rssPeakMb: +peak.toFixed(1), rssAfterMb: +after.toFixed(1),
    signedUnlockOk: result.ok, answeredMs: +answeredMs.toFixed(0),
  }));
  await watcher.close();
} finally {
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  rmSync(work, { recursive: true, force: true });
}
