/**
 * node --import tsx bench/first-attempt.ts [--starts N]
 *
 * How long the first door attempt of a fresh `facegate run` takes, compared with the next two: the real
 * daemon process (default model, default detector, folder camera showing one LFW photo, simulated GPIO, one
 * enrolled LFW person), started N times after one unmeasured start that fills the embedding cache (as on a
 * door that has run before). Medians over the starts. The last line printed is one JSON object.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { listIdentities } from '../src/gallery/datasets.js';
import { writePerson } from '../src/gallery/gallery.js';
import { median } from '../src/evaluation/metrics.js';

const { values: args } = parseArgs({
  options: {
    starts: { type: 'string', default: '5' },
    dataset: { type: 'string', default: process.env.FACEGATE_DATASETS ? join(process.env.FACEGATE_DATASETS, 'lfw-dev') : resolve('../shared/datasets/lfw-dev') },
  },
});

type LogLine = Record<string, unknown> & { msg?: string };
interface Start { readyMs: number; first: LogLine; second: LogLine; third: LogLine; warmUpMs: number | null }

const person = listIdentities(args.dataset).find((i) => i.images.length >= 7);
if (!person) {
  console.log(JSON.stringify({ skipped: `LFW-dev not found at ${args.dataset}` }));
  process.exit(0);
}
const root = mkdtempSync(join(tmpdir(), 'facegate-first-attempt-'));
const cameraDir = join(root, 'camera');
mkdirSync(cameraDir, { recursive: true });
copyFileSync(person.images[6]!, join(cameraDir, 'visitor.jpg')); // a temp folder, never the repo
writePerson(join(root, 'data', 'gallery'), person.name, person.images.slice(0, 5).map((f) => ({ source: f, bytes: readFileSync(f), isCrop: false })));
const config = join(root, 'config.json');
writeFileSync(config, JSON.stringify({
  deviceId: 'bench-door',
  paths: { data: join(root, 'data'), state: join(root, 'state') },
  camera: { driver: 'files', folder: cameraDir },
  gpio: { driver: 'simulated' },
  door: { cooldownMs: 100 },
  mqtt: { enabled: false },
  log: { level: 'info', pretty: 'never' },
}));

/** One daemon process: time to "running", then three SIGUSR1 attempts one after the other. */
async function oneStart(): Promise<Start> {
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'run', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: LogLine[] = [];
  let buffered = '';
  let wake = () => {};
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    for (const text of parts) if (text.startsWith('{')) lines.push(JSON.parse(text) as LogLine);
    wake();
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((done) => child.on('exit', () => { wake(); done(); }));
  const waitFor = async (match: (line: LogLine) => boolean): Promise<LogLine> => {
    for (;;) {
      const found = lines.find(match);
      if (found) return found;
      if (child.exitCode !== null) throw new Error(`daemon exited: ${stderr.slice(-2000)}`);
      await new Promise<void>((resolve) => (wake = resolve));
    }
  };
  try {
    await waitFor((l) => /facegate is running/.test(l.msg ?? ''));
    const readyMs = performance.now() - t0;
    child.kill('SIGUSR1');
    // The door's own line carries the stage timings (the event sink's line only the total).
    const isAttempt = (l: LogLine) => typeof l.timings === 'object' && /^attempt /.test(l.msg ?? '');
    const first = await waitFor(isAttempt);
    await waitFor((l) => l.msg === 'door idle' && lines.indexOf(l) > lines.indexOf(first));
    child.kill('SIGUSR1');
    const second = await waitFor((l) => isAttempt(l) && l !== first);
    await waitFor((l) => l.msg === 'door idle' && lines.indexOf(l) > lines.indexOf(second));
    child.kill('SIGUSR1');
    const third = await waitFor((l) => isAttempt(l) && l !== first && l !== second);
    const warmUp = lines.find((l) => l.msg === 'verifier warmed up');
    return { readyMs, first, second, third, warmUpMs: typeof warmUp?.durationMs === 'number' ? warmUp.durationMs : null };
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

const total = (line: LogLine) => (line.timings as { total: number }).total;
const verifyTotal = (line: LogLine) => {
  const t = line.timings as Record<string, number>;
  return (t.decode ?? 0) + (t.detect ?? 0) + (t.embed ?? 0) + (t.compare ?? 0);
};

try {
  await oneStart(); // fills the embedding cache, as on a door that has run before
  const starts: Start[] = [];
  for (let i = 0; i < Number(args.starts); i++) {
    const start = await oneStart();
    console.error(`start ${i + 1}: ready ${start.readyMs.toFixed(0)} ms, first attempt ${JSON.stringify(start.first.timings)} (${String(start.first.decision)}), then ${total(start.second)}, ${total(start.third)} ms`);
    starts.push(start);
  }
  const med = (values: number[]) => Number(median(values).toFixed(0));
  console.log(JSON.stringify({
    starts: starts.length,
    first_attempt_ms: med(starts.map((s) => total(s.first))),
    first_verify_ms: med(starts.map((s) => verifyTotal(s.first))),
    second_attempt_ms: med(starts.map((s) => total(s.second))),
    third_attempt_ms: med(starts.map((s) => total(s.third))),
    ready_ms: med(starts.map((s) => s.readyMs)),
    warm_up_ms: starts.every((s) => s.warmUpMs !== null) ? med(starts.map((s) => s.warmUpMs!)) : null,
    decisions: [...new Set(starts.map((s) => String(s.first.decision)))],
  }));
} finally {
  rmSync(root, { recursive: true, force: true });
}
