import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/log.js';
import { createHttpCamera, digestAuthorization, parseChallenges } from '../../src/camera/http.js';

const log = createLogger({ level: 'silent' });
const USER = 'door';
const PASSWORD = 'p"ss:w0rd';
const REALM = 'IPCam';
let frames: Buffer[] = [];
let server: Server;
let base = '';
const openSockets = new Set<import('node:net').Socket>();
let streamsServed = 0;

/** The server side of RFC 7616, written from the RFC independently of the client code under test. */
function digestOk(header: string | undefined, method: string, hash: 'md5' | 'sha256'): boolean {
  if (!header?.startsWith('Digest ')) return false;
  const p: Record<string, string> = {};
  for (const m of header.slice(7).matchAll(/(\w+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]+))/g)) p[m[1]!] = (m[2] ?? m[3]!).replace(/\\(.)/g, '$1');
  const H = (s: string) => createHash(hash).update(s).digest('hex');
  const ha1 = H(`${p.username}:${REALM}:${PASSWORD}`);
  const ha2 = H(`${method}:${p.uri}`);
  return p.username === USER && p.nonce === 'n0nce' && p.opaque === 'op' && p.qop === 'auth' && p.response === H(`${ha1}:${p.nonce}:${p.nc}:${p.cnonce}:auth:${ha2}`);
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const path = new URL(req.url!, 'http://x').pathname;
  const jpeg = () => {
    res.writeHead(200, { 'content-type': 'image/jpeg' });
    res.end(frames[0]);
  };
  if (path === '/snap') return jpeg();
  if (path === '/basic') {
    if (req.headers.authorization === `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`) return jpeg();
    res.writeHead(401, { 'www-authenticate': `Basic realm="${REALM}"` }).end();
    return;
  }
  if (path === '/digest-md5' || path === '/digest-sha256') {
    const hash = path.endsWith('md5') ? 'md5' : 'sha256';
    if (digestOk(req.headers.authorization, req.method!, hash)) return jpeg();
    // Offered in the order many cameras use: the weaker one first; the client must prefer SHA-256 when offered.
    const offers = [`Digest realm="${REALM}", qop="auth", nonce="n0nce", opaque="op", algorithm=MD5`];
    if (hash === 'sha256') offers.push(`Digest realm="${REALM}", qop="auth", nonce="n0nce", opaque="op", algorithm=SHA-256`);
    res.writeHead(401, { 'www-authenticate': offers }).end();
    return;
  }
  if (path === '/slow') return; // never answers
  if (path === '/html') {
    res.writeHead(200, { 'content-type': 'text/html' }).end('<html>login</html>');
    return;
  }
  if (path === '/stream') {
    // Multipart MJPEG that ends after a few frames, as a flaky camera would; the client must reconnect.
    streamsServed++;
    res.writeHead(200, { 'content-type': 'multipart/x-mixed-replace; boundary=frame' });
    let i = 0;
    const timer = setInterval(() => {
      const f = frames[i % frames.length]!;
      res.write(`--frame\r\nContent-Type: image/jpeg\r\nContent-Length: ${f.length}\r\n\r\n`);
      res.write(f);
      res.write('\r\n');
      if (++i >= 4) {
        clearInterval(timer);
        res.end();
      }
    }, 40);
    res.on('close', () => clearInterval(timer));
    return;
  }
  res.writeHead(404).end();
}

before(async () => {
  frames = await Promise.all(
    [[255, 0, 0], [0, 255, 0], [0, 0, 255]].map(([r, g, b]) => sharp({ create: { width: 64, height: 48, channels: 3, background: { r: r!, g: g!, b: b! } } }).jpeg().toBuffer()),
  );
  server = createServer(handle);
  server.on('connection', (s) => {
    openSockets.add(s);
    s.on('close', () => openSockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  for (const s of openSockets) s.destroy();
  await new Promise<void>((r) => server.close(() => r()));
});

function camera(path: string, overrides: Record<string, unknown> = {}) {
  const settings = loadConfig({ env: {}, overrides: { 'camera.driver': 'http', 'camera.url': `${base}${path}`, ...overrides } }).getProperties().camera;
  return createHttpCamera(settings, log);
}

async function grabOnce(path: string, overrides: Record<string, unknown> = {}) {
  const cam = camera(path, overrides);
  await cam.start();
  try {
    return await cam.grab();
  } finally {
    await cam.stop();
  }
}

const creds = { 'camera.username': USER, 'camera.password': PASSWORD };

test('snapshot: one JPEG per grab', async () => {
  const frame = await grabOnce('/snap');
  assert.ok(frame.data.equals(frames[0]!));
  assert.equal(frame.source, `${base}/snap`);
});

test('basic auth answers the 401; without credentials the error says which settings to set', async () => {
  assert.ok((await grabOnce('/basic', creds)).data.equals(frames[0]!));
  await assert.rejects(grabOnce('/basic'), /wants a login: set camera\.username and camera\.password/);
  await assert.rejects(grabOnce('/basic', { ...creds, 'camera.password': 'wrong' }), /camera\.username or camera\.password is wrong \(401\)/);
});

test('digest auth with MD5 and SHA-256 (qop=auth), repeated grabs reuse the nonce', async () => {
  for (const path of ['/digest-md5', '/digest-sha256']) {
    const cam = camera(path, creds);
    await cam.start();
    try {
      for (let i = 0; i < 3; i++) assert.ok((await cam.grab()).data.equals(frames[0]!), `${path} grab ${i}`);
      assert.equal(cam.status().healthy, true);
    } finally {
      await cam.stop();
    }
  }
  await assert.rejects(grabOnce('/digest-sha256', { ...creds, 'camera.password': 'nope' }), /wrong \(401\)/);
});

test('a camera that does not answer times out with the setting to change', async () => {
  const cam = camera('/slow', { 'camera.timeoutMs': 300 });
  await cam.start();
  await assert.rejects(cam.grab(), /no answer within 300 ms \(camera\.timeoutMs\)/);
  assert.equal(cam.status().healthy, false);
  await cam.stop();
  await assert.rejects(grabOnce('/html'), /did not return a JPEG \(text\/html\)/);
  assert.throws(() => camera('/snap', { 'camera.url': base.replace('http://', 'http://u:p@') + '/snap' }), /must not carry credentials/);
});

test('mjpeg stream: frames are cut from the multipart body and the stream is reconnected when it ends', async () => {
  const before = streamsServed;
  const cam = camera('/stream', { 'camera.httpMode': 'mjpeg', 'camera.restartMinMs': 50, 'camera.restartMaxMs': 200, 'camera.maxAgeMs': 2000 });
  await cam.start();
  try {
    const deadline = Date.now() + 15_000;
    // restarts counts reconnect attempts; the third stream is served a moment after the second one is counted.
    while ((cam.status().restarts < 2 || streamsServed - before < 3) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    assert.ok(cam.status().restarts >= 2, `restarts ${cam.status().restarts}`);
    assert.ok(streamsServed - before >= 3);
    const frame = await cam.grab();
    assert.ok(frames.some((f) => f.equals(frame.data)), 'a delivered frame is byte-identical to one served');
    assert.ok(cam.status().fps > 0);
  } finally {
    await cam.stop();
  }
});

test('challenge parsing and a known digest vector (RFC 7616 section 3.9.1, MD5 and SHA-256)', () => {
  const parsed = parseChallenges('Digest realm="a, b", qop="auth,auth-int", nonce="x", Basic realm="r"');
  assert.deepEqual(parsed, [
    { scheme: 'digest', params: { realm: 'a, b', qop: 'auth,auth-int', nonce: 'x' } },
    { scheme: 'basic', params: { realm: 'r' } },
  ]);
  const header = digestAuthorization(
    { realm: 'http-auth@example.org', qop: 'auth, auth-int', algorithm: 'MD5', nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v', opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS' },
    { username: 'Mufasa', password: 'Circle of Life' },
    { method: 'GET', uri: '/dir/index.html' },
    1,
    'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
  );
  assert.match(header, /response="8ca523f5e9506fed4657c9700eebdbec"/);
  assert.match(header, /nc=00000001, cnonce="f2\/wE4q74E6zIJEtWaHKaf5wv\/H5QzzpXusqGemxURZJ"/);
  const sha = digestAuthorization(
    { realm: 'http-auth@example.org', qop: 'auth, auth-int', algorithm: 'SHA-256', nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v', opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS' },
    { username: 'Mufasa', password: 'Circle of Life' },
    { method: 'GET', uri: '/dir/index.html' },
    1,
    'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
  );
  assert.match(sha, /response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"/);
});

test('burst: consecutive frames from the MJPEG stream; snapshot mode polls until count', async () => {
  const streaming = camera('/stream', { 'camera.httpMode': 'mjpeg', 'camera.restartMinMs': 50, 'camera.maxAgeMs': 2000 });
  await streaming.start();
  try {
    const burst = await streaming.burst({ count: 3, durationMs: 2000 });
    assert.equal(burst.length, 3);
    assert.equal(new Set(burst).size, 3, 'three different frames, not the newest one three times');
    for (const frame of burst) assert.ok(frames.some((f) => f.equals(frame.data)));
  } finally {
    await streaming.stop();
  }
  const snapshots = camera('/snap');
  await snapshots.start();
  try {
    const burst = await snapshots.burst({ count: 3, durationMs: 5000 });
    assert.equal(burst.length, 3);
    assert.ok(burst.every((f) => f.data.equals(frames[0]!)));
  } finally {
    await snapshots.stop();
  }
});
