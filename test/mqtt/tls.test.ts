import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { startMqttBridge } from '../../src/mqtt/bridge.js';
import { startEmbeddedBroker } from '../../src/mqtt/broker.js';
import { createLogger } from '../../src/log.js';
import { topicsFor } from '../../src/mqtt/topics.js';
import { eventually, observe, quietLog, testSettings, fakePort } from '../helpers/broker.js';

/** A throwaway self-signed certificate for localhost / 127.0.0.1, or null when openssl is missing. */
function makeCertificate(dir: string): { key: string; cert: string } | null {
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
    return { key, cert };
  } catch {
    return null;
  }
}

const dir = mkdtempSync(join(tmpdir(), 'facegate-tls-'));
const pem = makeCertificate(dir);
if (!pem) rmSync(dir, { recursive: true, force: true });
const handlers = { verify: async () => ({ refused: 'n/a' }), unlock: async () => ({ refused: 'n/a' }), reload: async () => ({ ok: true as const }) };

test('mqtts:// with the CA connects; without it the broker certificate is refused unless rejectUnauthorized is off', { skip: pem ? false : 'openssl not found', timeout: 40_000 }, async () => {
  const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, tls: { key: readFileSync(pem!.key), cert: readFileSync(pem!.cert) } }, quietLog());
  const url = `mqtts://localhost:${broker.port}`;
  const lines: string[] = [];
  const log = createLogger({ level: 'warn', destination: new Writable({ write(chunk, _e, done) { lines.push(String(chunk)); done(); } }) });
  const trusted = testSettings(url, { 'mqtt.tls.ca': pem!.cert });
  const untrusted = testSettings(url);
  const lax = testSettings(url, { 'mqtt.tls.rejectUnauthorized': false });
  const bridges = [
    await startMqttBridge(trusted.settings, quietLog(), fakePort(handlers)),
    await startMqttBridge(untrusted.settings, log, fakePort(handlers)),
    await startMqttBridge(lax.settings, quietLog(), fakePort(handlers)),
  ];
  try {
    await eventually(() => bridges[0]!.connected() && bridges[2]!.connected());
    const topics = topicsFor(trusted.settings);
    const watcher = await observe(url, [topics.availability], { ca: readFileSync(pem!.cert) });
    assert.equal((await watcher.next(topics.availability)).toString(), 'online');
    await watcher.close();
    await eventually(() => lines.some((l) => /certificate/i.test(l)));
    assert.equal(bridges[1]!.connected(), false);
  } finally {
    for (const bridge of bridges) await bridge.close();
    await broker.close();
    for (const t of [trusted, untrusted, lax]) t.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});
