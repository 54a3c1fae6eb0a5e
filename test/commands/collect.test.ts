import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { repoRoot, lfwDir, needLfw } from '../helpers/datasets.js';
import { PreviewServer, BOUNDARY } from '../../src/collect/preview.js';
import { FolderCamera } from '../../src/camera/files.js';
import { createLogger } from '../../src/log.js';

const work = mkdtempSync(join(tmpdir(), 'facegate-collect-'));
after(() => rmSync(work, { recursive: true, force: true }));

const cli = join(repoRoot, 'src', 'cli.ts');
const needScript = spawnSync('script', ['--version']).status === 0 ? false : 'util-linux "script" is not installed (needed for a pseudo-terminal)';

/** A 640x480 PNG with texture, so the fixed crop has something to measure. Generated, not a photo. */
async function syntheticFrame(file: string): Promise<void> {
  const width = 640;
  const height = 480;
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      const check = ((x >> 3) + (y >> 3)) % 2 ? 200 : 60;
      data[o] = check;
      data[o + 1] = (x * 255) / width;
      data[o + 2] = (y * 255) / height;
    }
  }
  await sharp(data, { raw: { width, height, channels: 3 } }).png().toFile(file);
}

/** Runs `facegate collect` inside a pseudo-terminal made by util-linux `script`; keys go in through its stdin. */
function collectInPty(dataDir: string, extra: string[]): { child: ChildProcessWithoutNullStreams; output: () => string; waitFor: (text: string) => Promise<void>; exited: Promise<number | null> } {
  const command = [process.execPath, '--import', 'tsx', cli, 'collect', '--data-dir', dataDir, '--preview-port', '0', ...extra]
    .map((part) => `'${part.replace(/'/g, "'\\''")}'`)
    .join(' ');
  const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd: repoRoot, env: { ...process.env, FACEGATE_LOG_LEVEL: 'warn' } });
  let text = '';
  const waiters: Array<{ needle: string; resolve: () => void }> = [];
  const onData = (chunk: Buffer) => {
    text += chunk.toString();
    for (const w of [...waiters]) if (text.includes(w.needle)) (waiters.splice(waiters.indexOf(w), 1), w.resolve());
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const waitFor = (needle: string) =>
    new Promise<void>((resolve, reject) => {
      if (text.includes(needle)) return resolve();
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`timed out waiting for "${needle}"; output so far:\n${text}`));
      }, 45_000);
      waiters.push({ needle, resolve: () => (clearTimeout(timer), resolve()) });
    });
  return { child, output: () => text, waitFor, exited };
}

test('without a terminal it explains itself and exits non-zero instead of waiting for keys', () => {
  const result = spawnSync(process.execPath, ['--import', 'tsx', cli, 'collect', '--data-dir', join(work, 'no-tty')], {
    cwd: repoRoot,
    input: 'apq',
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(result.status, 2, result.stderr);
  assert.match(result.stderr, /not a TTY/);
  assert.match(result.stderr, /a {3}save an anchor image/);
});

test('keys a, p, q in a pseudo-terminal save an anchor and a positive crop (fixed crop)', { skip: needScript }, async () => {
  const dataDir = join(work, 'fixed');
  mkdirSync(join(dataDir, 'camera'), { recursive: true });
  await syntheticFrame(join(dataDir, 'camera', 'frame.png'));
  const run = collectInPty(dataDir, ['--detector', 'fixed']);
  await run.waitFor('keys: a = anchor');
  run.child.stdin.write('a');
  await run.waitFor('anchor saved [anchor 1, positive 0]');
  run.child.stdin.write('p');
  await run.waitFor('positive saved [anchor 1, positive 1]');
  run.child.stdin.write('x'); // not a command key: ignored
  run.child.stdin.write('q');
  assert.equal(await run.exited, 0, run.output());
  assert.match(run.output(), /done: 1 anchor and 1 positive/);
  for (const kind of ['anchor', 'positive']) {
    const files = readdirSync(join(dataDir, kind));
    assert.equal(files.length, 1, `${kind}: ${files}`);
    assert.match(files[0]!, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.crop\.jpg$/);
    const meta = await sharp(join(dataDir, kind, files[0]!)).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 250, 250]);
  }
});

test('with the face detector, a capture reports the face box and no face saves nothing', { skip: needScript || needLfw() }, async () => {
  const dataDir = join(work, 'tiny');
  mkdirSync(join(dataDir, 'camera'), { recursive: true });
  const person = readdirSync(lfwDir).find((name) => readdirSync(join(lfwDir, name)).length > 0)!;
  const photo = readdirSync(join(lfwDir, person))[0]!;
  copyFileSync(join(lfwDir, person, photo), join(dataDir, 'camera', 'a.jpg')); // a temp folder, not the repo
  const run = collectInPty(dataDir, ['--detector', 'tiny']);
  await run.waitFor('keys: a = anchor');
  run.child.stdin.write('a');
  await run.waitFor('anchor saved');
  assert.match(run.output(), /face \d+x\d+ at \(\d+,\d+\) score 0\.\d\d, brightness 0\.\d\d sharpness \d+/);
  // A newer frame without a face: the next capture must refuse rather than save a random crop.
  await syntheticFrame(join(dataDir, 'camera', 'z-blank.png'));
  run.child.stdin.write('p');
  await run.waitFor('positive: not saved: no face found');
  run.child.stdin.write('q');
  assert.equal(await run.exited, 0, run.output());
  assert.equal(readdirSync(join(dataDir, 'anchor')).length, 1);
  assert.equal(readdirSync(join(dataDir, 'positive')).length, 0);
});

test('the preview server streams camera frames as multipart JPEG and stops cleanly', async () => {
  const folder = join(work, 'preview');
  mkdirSync(folder, { recursive: true });
  await syntheticFrame(join(folder, 'frame.png'));
  const log = createLogger({ level: 'silent', destination: process.stderr });
  const camera = new FolderCamera(folder, log);
  await camera.start();
  const server = new PreviewServer({ camera, port: 0, host: '127.0.0.1', fps: 20, log, status: () => ({ counts: { anchor: 3 } }) });
  const url = await server.start();
  try {
    const { contentType, body } = await new Promise<{ contentType: string; body: Buffer }>((resolve, reject) => {
      const req = request(url, (res) => {
        let body = Buffer.alloc(0);
        res.on('data', (chunk: Buffer) => {
          body = Buffer.concat([body, chunk]);
          // One whole part: boundary, headers, JPEG, and the next boundary or enough bytes.
          const end = body.indexOf(Buffer.from([0xff, 0xd9]));
          if (end > 0) {
            resolve({ contentType: res.headers['content-type'] ?? '', body });
            req.destroy();
          }
        });
      });
      req.on('error', (error) => ((error as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(error)));
      req.end();
    });
    assert.equal(contentType, `multipart/x-mixed-replace; boundary=${BOUNDARY}`);
    assert.ok(body.toString('latin1').startsWith(`--${BOUNDARY}\r\nContent-Type: image/jpeg\r\n`));
    const jpegStart = body.indexOf(Buffer.from([0xff, 0xd8, 0xff]));
    assert.ok(jpegStart > 0, 'a JPEG follows the part headers (the PNG frame was re-encoded)');
    const status = await fetch(url.replace('/preview', '/status'));
    assert.deepEqual(await status.json(), { counts: { anchor: 3 } });
  } finally {
    await server.stop();
    await camera.stop();
  }
});
