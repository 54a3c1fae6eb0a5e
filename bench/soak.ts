/**
 * Soak: thousands of attempts through the real door and composition root (simulated GPIO, a warm in-memory
 * camera, the audit log on), to show memory, open file handles and tensors stay flat.
 *   --verifier real   the real Siamese verifier with the small committed test model (tensor count is checked)
 *   --verifier fake   a model-free verifier (only the door, sinks and GPIO are soaked)
 * Usage: npm run soak -- [--attempts 2000] [--verifier real|fake]     (progress on stderr, JSON last line)
 * For the tightest RSS figure pin V8's young generation, as test/trust/soak.test.ts does:
 *   node --min-semi-space-size=16 --max-semi-space-size=16 --import tsx bench/soak.ts ...
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import sharp from 'sharp';
import type { Camera, CameraStatus, Frame } from '../src/camera/camera.js';
import { AuditLog } from '../src/audit/log.js';
import { loadConfig } from '../src/config/index.js';
import { startDaemon } from '../src/daemon/daemon.js';
import type { Decision } from '../src/core/types.js';
import { simulatedGpio } from '../src/gpio/factory.js';
import { createLogger } from '../src/log.js';
import type { GalleryInfo, Verifier, VerifyResult } from '../src/core/types.js';

export interface SoakOptions {
  attempts: number;
  verifier: 'real' | 'fake';
  /**
   * Most attempts run before the baseline is taken. Warm-up goes in batches until RSS settles (V8 grows its
   * young generation and JIT caches for a few thousand fast attempts): growth is measured from a steady state,
   * so what it shows is a leak, not the engine sizing itself.
   */
  maxWarmup?: number;
  /** Attempts per warm-up batch (default 250). */
  warmupBatch?: number;
  onProgress?: (done: number) => void;
}

export interface SoakResult {
  attempts: number;
  warmupAttempts: number;
  verifier: 'real' | 'fake';
  seconds: number;
  attemptsPerSecond: number;
  rssStartMB: number;
  rssEndMB: number;
  rssGrowthPct: number;
  heapStartMB: number;
  heapEndMB: number;
  /** What V8 has reserved for its heap; RSS follows it. */
  heapTotalStartMB: number;
  heapTotalEndMB: number;
  fdStart: number;
  fdEnd: number;
  tensorsStart: number | null;
  tensorsEnd: number | null;
  decisions: Partial<Record<Decision, number>>;
}

const WARMUP_BATCH = 250;
/** RSS and the V8 heap's reserved size must hold within 1 % for this many batches in a row before the baseline. */
const SETTLED_BATCHES = 4;
const repoRoot = fileURLToPath(new URL('..', import.meta.url));

/** A full collection before each measurement, so RSS and heap compare live memory, not garbage. */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  return () => {
    gc();
    gc();
  };
}

const openFiles = () => readdirSync('/proc/self/fd').length;
const mb = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;

/** Structured noise, 640x480: the fixed crop cuts a "face" out of it; different seeds are different "people". */
async function picture(seed: number): Promise<Buffer> {
  const pixels = Buffer.alloc(640 * 480 * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 7919 + seed * 104729) % 251;
  return sharp(pixels, { raw: { width: 640, height: 480, channels: 3 } }).jpeg({ quality: 85 }).toBuffer();
}

/** Always a fresh frame, taking turns between the frames given: the soak measures the door, not a capture program. */
class StillCamera implements Camera {
  private n = 0;
  constructor(private readonly frames: Buffer[]) {}
  async start(): Promise<void> {}
  async grab(): Promise<Frame> {
    return { data: this.frames[this.n++ % this.frames.length]!, capturedAt: Date.now(), source: 'soak' };
  }
  async burst(request: { count: number }): Promise<Frame[]> {
    return Promise.all(Array.from({ length: request.count }, () => this.grab()));
  }
  status(): CameraStatus {
    return { driver: 'soak', healthy: true, fps: 10, lastFrameAgeMs: 0, restarts: 0 };
  }
  async stop(): Promise<void> {}
}

/** Model-free: alternates granted and denied so both relay paths run. */
class AlternatingVerifier implements Verifier {
  private n = 0;
  async verify(): Promise<VerifyResult> {
    const granted = this.n++ % 2 === 0;
    return {
      decision: granted ? 'granted' : 'denied', identity: 'alice', fraction: granted ? 1 : 0, meanScore: 0.5, perIdentity: [],
      thresholds: { detection: 0.5, verification: 0.5 }, face: null, timings: { decode: 0, detect: 0, embed: 0, compare: 0, total: 0 }, backend: 'fake', liveness: 'not_checked',
    };
  }
  liveness() {
    return { mode: 'off', burstFrames: 1, burstDurationMs: 0 };
  }
  async reload(): Promise<GalleryInfo> {
    return { identities: 1, images: 1, model: 'fake' };
  }
  info() {
    return { identities: 1, images: 1, model: 'fake', backend: 'fake', healthy: true };
  }
  async close(): Promise<void> {}
}

export async function soak(options: SoakOptions): Promise<SoakResult> {
  const gc = collector();
  const root = mkdtempSync(join(tmpdir(), 'facegate-soak-'));
  const person = join(root, 'data', 'gallery', 'alice');
  mkdirSync(person, { recursive: true });
  for (const seed of [1, 2, 3]) writeFileSync(join(person, `${seed}.jpg`), await picture(seed));
  const settings = loadConfig({
    env: {},
    overrides: {
      'paths.data': join(root, 'data'), 'paths.state': join(root, 'state'),
      'model.dir': join(repoRoot, 'test/fixtures/keras-seed'), 'model.backend': 'cpu', 'vision.detector': 'fixed',
      'door.cooldownMs': 0, 'door.unlockMs': 1, 'security.maxFailures': 0,
      // The soak attaches its own audit log below, so it can wait for each line like a real door's pace would.
      'mqtt.enabled': false, 'keyboard.enabled': false, 'log.level': 'warn', 'audit.enabled': false,
    },
  }).getProperties();
  const quiet = new Writable({ write: (_chunk, _encoding, done) => done() });
  const log = createLogger({ level: 'warn', destination: quiet });
  const tf = options.verifier === 'real' ? (await import('../src/model/tf.js')).tf : null;
  const daemon = await startDaemon(settings, log, {
    createGpio: async () => simulatedGpio(log),
    // The enrolled person's own picture, then a stranger's: both the granted and the denied paths run.
    createCamera: async () => new StillCamera([await picture(1), await picture(9)]),
    ...(options.verifier === 'fake' ? { createVerifier: async () => new AlternatingVerifier() } : {}),
  });
  const audit = new AuditLog({ stateDir: settings.paths.state, snapshots: false, retention: settings.audit, log });
  await audit.start();
  daemon.sinks.add('audit', audit);
  const decisions: SoakResult['decisions'] = {};
  const attempt = async () => {
    const outcome = await daemon.door.trigger('button');
    if (!outcome.accepted) throw new Error(`attempt refused (${outcome.reason}): the soak expects an idle door`);
    decisions[outcome.event.decision] = (decisions[outcome.event.decision] ?? 0) + 1;
    // Without this, thousands of attempts a second would queue lines faster than datasync writes them.
    await audit.flush();
  };
  try {
    const maxWarmup = options.maxWarmup ?? 10_000;
    let warmupAttempts = 0;
    const batch = options.warmupBatch ?? WARMUP_BATCH;
    let last = { rss: Infinity, heapTotal: Infinity };
    let settledBatches = 0;
    const steady = (now: number, before: number) => Math.abs(now - before) / before < 0.01;
    for (;;) {
      for (let i = 0; i < batch; i++) await attempt();
      warmupAttempts += batch;
      gc();
      const { rss, heapTotal } = process.memoryUsage();
      settledBatches = steady(rss, last.rss) && steady(heapTotal, last.heapTotal) ? settledBatches + 1 : 0;
      last = { rss, heapTotal };
      if (settledBatches >= SETTLED_BATCHES || warmupAttempts >= maxWarmup) break;
    }
    for (const key of Object.keys(decisions) as Decision[]) delete decisions[key];
    gc();
    const start = { ...process.memoryUsage(), fds: openFiles(), tensors: tf?.memory().numTensors ?? null };
    const began = performance.now();
    for (let i = 1; i <= options.attempts; i++) {
      await attempt();
      if (i % 500 === 0) options.onProgress?.(i);
    }
    const seconds = (performance.now() - began) / 1000;
    gc();
    const end = { ...process.memoryUsage(), fds: openFiles(), tensors: tf?.memory().numTensors ?? null };
    return {
      attempts: options.attempts, warmupAttempts, verifier: options.verifier,
      seconds: Math.round(seconds * 100) / 100,
      attemptsPerSecond: Math.round((options.attempts / seconds) * 10) / 10,
      rssStartMB: mb(start.rss), rssEndMB: mb(end.rss), rssGrowthPct: Math.round(((end.rss - start.rss) / start.rss) * 1000) / 10,
      heapStartMB: mb(start.heapUsed), heapEndMB: mb(end.heapUsed),
      heapTotalStartMB: mb(start.heapTotal), heapTotalEndMB: mb(end.heapTotal),
      fdStart: start.fds, fdEnd: end.fds, tensorsStart: start.tensors, tensorsEnd: end.tensors, decisions,
    };
  } finally {
    await daemon.stop('soak over');
    await audit.close();
    rmSync(root, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({ options: { attempts: { type: 'string', default: '2000' }, verifier: { type: 'string', default: 'real' } } });
  const verifier = values.verifier === 'fake' ? 'fake' : 'real';
  const attempts = Number(values.attempts);
  if (!Number.isInteger(attempts) || attempts <= 0) throw new Error('--attempts must be a whole number above 0');
  const result = await soak({ attempts, verifier, onProgress: (done) => process.stderr.write(`soak: ${done}/${attempts}\n`) });
  console.log(JSON.stringify(result));
}
