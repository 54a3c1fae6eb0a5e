/**
 * npm run bench:footprint [--silent] [-- --attempts 100 --arch arm64 --no-size --no-rss --frame door|photo]
 *
 * What facegate costs a Raspberry Pi, in two parts; the last line printed is one JSON object.
 * - size: the installed runtime as systemd/install.sh leaves it, for linux-<arch> (default arm64, the Pi): the
 *   lock file's production packages for that platform (npm ci --omit=dev --cpu --os, no scripts: the same files
 *   a Pi gets, built addons aside), pruned by systemd/prune-runtime.sh, plus dist/, models/ and config/.
 *   It follows package.json, so a new dependency (a second face model's runtime) is counted as it lands.
 * - rss: `facegate run` (dist/, the default model, one person enrolled from LFW, the folder camera holding a
 *   1280x720 door frame of them, simulated GPIO, MQTT as by default, bin/facegate with systemd/facegate.service's environment)
 *   pressed N times with SIGUSR1; VmRSS once ready (idle), after the last attempt, and VmHWM (peak).
 * Measured on this machine's CPU architecture: RSS on a Pi is about the same (same JS heap, same wasm memory).
 */
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { listIdentities } from '../src/gallery/datasets.js';

const root = resolve(import.meta.dirname, '..');
const { values: args } = parseArgs({
  options: {
    attempts: { type: 'string', default: '100' },
    arch: { type: 'string', default: 'arm64' },
    'no-size': { type: 'boolean', default: false },
    'no-rss': { type: 'boolean', default: false },
    frame: { type: 'string', default: 'door' },
    dataset: { type: 'string', default: process.env.FACEGATE_DATASETS ? join(process.env.FACEGATE_DATASETS, 'lfw-dev') : resolve(root, '../shared/datasets/lfw-dev') },
  },
});
const say = (line: string) => process.stderr.write(`${line}\n`);
const duMB = (...paths: string[]) => Number(execFileSync('du', ['-smc', ...paths], { encoding: 'utf8' }).trim().split('\n').pop()!.split('\t')[0]);

function installedSize(arch: string) {
  const dir = mkdtempSync(join(tmpdir(), 'facegate-footprint-'));
  try {
    for (const file of ['package.json', 'package-lock.json', '.npmrc']) copyFileSync(join(root, file), join(dir, file));
    say(`size: npm ci --omit=dev for linux-${arch} in ${dir} ...`);
    execFileSync('npm', ['ci', '--omit=dev', '--ignore-scripts', `--cpu=${arch}`, '--os=linux', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
    const before = duMB(join(dir, 'node_modules'));
    execFileSync('sh', [join(root, 'systemd/prune-runtime.sh'), dir]);
    const modules = join(dir, 'node_modules');
    const packages = readdirSync(modules).flatMap((n) => (n.startsWith('@') ? readdirSync(join(modules, n)).map((m) => `${n}/${m}`) : n.startsWith('.') ? [] : [n]));
    const biggest = packages.map((name) => ({ name, mb: duMB(join(modules, name)) })).sort((a, b) => b.mb - a.mb).slice(0, 6);
    const own = ['dist', 'models', 'config'].map((d) => join(root, d)).filter(existsSync);
    const nodeModulesMB = duMB(modules);
    return { arch, totalMB: nodeModulesMB + duMB(...own), nodeModulesMB, ownMB: duMB(...own), beforePruneMB: before, biggest };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function procStatus(pid: number): { rssMB: number; peakMB: number } {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  return { rssMB: Math.round(kb('VmRSS') / 1024), peakMB: Math.round(kb('VmHWM') / 1024) };
}

/** The environment the service runs with (NODE_OPTIONS, MALLOC_ARENA_MAX ...), read from the unit. */
function unitEnvironment(): Record<string, string> {
  const unit = readFileSync(join(root, 'systemd/facegate.service'), 'utf8');
  const lines = [...unit.matchAll(/^Environment=(.*)$/gm)].map((m) => m[1]!);
  const env = Object.fromEntries(lines.map((line) => {
    // systemd's own syntax: KEY=value, or "KEY=value with spaces" in quotes. Anything else would be measured
    // without it, silently; say so instead.
    const m = /^"?(\w+)=([^"]*)"?$/.exec(line);
    if (!m) throw new Error(`systemd/facegate.service: cannot read Environment=${line}`);
    return [m[1]!, m[2]!];
  }));
  return { ...env, NODE_BINARY: process.execPath };
}

async function daemonRss(attempts: number) {
  const [person] = listIdentities(args.dataset).filter((i) => i.images.length >= 7);
  if (!person) return { skipped: `LFW-dev not found at ${args.dataset} (set FACEGATE_DATASETS)` };
  if (!existsSync(join(root, 'dist/cli.js'))) execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
  const dir = mkdtempSync(join(tmpdir(), 'facegate-rss-'));
  try {
    const photos = join(dir, 'photos');
    mkdirSync(photos);
    for (const image of person.images.slice(0, 5)) cpSync(image, join(photos, image.split('/').pop()!));
    mkdirSync(join(dir, 'data/camera'), { recursive: true });
    // The camera's picture is a door frame as rpicam gives it (1280x720), made here from an unenrolled LFW
    // photo of the same person (scaled 2x onto a grey frame, written to the temporary folder only): the
    // frame's size decides how much the detector holds in memory.
    if (args.frame === 'photo') cpSync(person.images[6]!, join(dir, 'data/camera/probe.jpg')); // the 250 px LFW photo itself
    else await sharp(person.images[6]!).resize(500, 500).extend({ top: 110, bottom: 110, left: 390, right: 390, background: '#808080' }).jpeg({ quality: 90 }).toFile(join(dir, 'data/camera/probe.jpg'));
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({
      paths: { data: join(dir, 'data'), state: join(dir, 'state') },
      camera: { driver: 'files' }, gpio: { driver: 'simulated' }, keyboard: { enabled: false }, systemd: { notify: 'never' },
      door: { cooldownMs: 0, resultMs: 1 }, security: { maxFailures: 0 }, log: { pretty: 'never', level: 'info' },
      // The default MQTT setting: the broker on localhost:1883 (Mosquitto here), else an embedded one.
      deviceId: `footprint-${process.pid}`, mqtt: { enabled: true, url: 'mqtt://localhost:1883', embedded: 'auto' },
    }));
    const unitEnv = unitEnvironment();
    const env = { PATH: process.env.PATH, HOME: dir, ...unitEnv };
    const launcher = join(root, 'bin/facegate');
    execFileSync(launcher, ['enroll', person.name, '--images', photos, '--config', config], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    say(`rss: ${Object.entries(unitEnv).map(([k, v]) => `${k}=${v}`).join(' ')} bin/facegate run (${person.name} enrolled), ${attempts} presses ...`);
    // The launcher execs node, so the child's pid is the daemon's.
    const child = spawn(launcher, ['run', '--config', config], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let log = '';
    const waitFor = (text: string, count = 1) => new Promise<void>((resolveWait, reject) => {
      const check = () => {
        if (log.split(text).length - 1 >= count) resolveWait();
        else if (child.exitCode !== null) reject(new Error(`facegate run exited ${child.exitCode}:\n${log.slice(-2000)}`));
        else setTimeout(check, 50);
      };
      check();
    });
    child.stdout!.on('data', (chunk: Buffer) => (log += chunk.toString()));
    await waitFor('"facegate is running');
    await new Promise((r) => setTimeout(r, 2000));
    const idle = procStatus(child.pid!);
    const decisions: Record<string, number> = {};
    for (let i = 1; i <= attempts; i++) {
      child.kill('SIGUSR1');
      await waitFor('"event":"attempt"', i);
    }
    for (const m of log.matchAll(/"event":"attempt"[^\n]*"decision":"(\w+)"/g)) decisions[m[1]!] = (decisions[m[1]!] ?? 0) + 1;
    const after = procStatus(child.pid!);
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    return { attempts, frame: args.frame, environment: unitEnv, idleMB: idle.rssMB, afterMB: after.rssMB, peakMB: after.peakMB, decisions };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const size = args['no-size'] ? null : installedSize(args.arch);
if (size) console.log(`installed runtime for linux-${size.arch}: ${size.totalMB} MB (node_modules ${size.nodeModulesMB} MB after pruning, ${size.beforePruneMB} MB before; dist+models+config ${size.ownMB} MB); biggest: ${size.biggest.map((b) => `${b.name} ${b.mb}`).join(', ')}`);
const rss = args['no-rss'] ? null : await daemonRss(Number(args.attempts));
if (rss && 'idleMB' in rss) console.log(`daemon RSS (${process.arch}, Node ${process.versions.node}, ${rss.frame === 'door' ? '1280x720 door frames' : '250 px photos'}): idle ${rss.idleMB} MB, after ${rss.attempts} attempts ${rss.afterMB} MB, peak ${rss.peakMB} MB (${JSON.stringify(rss.decisions)})`);
else if (rss) console.log(`daemon RSS skipped: ${rss.skipped}`);
console.log(JSON.stringify({ size, rss, node: process.versions.node, arch: process.arch }));
