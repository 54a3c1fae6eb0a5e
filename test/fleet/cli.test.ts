import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { connectAsync } from 'mqtt';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { cli, modelReady, tempDir } from '../helpers/cli.js';
import { clearRetained, startTestBroker, makeAttempt } from '../helpers/broker.js';
import { listIdentities } from '../../src/gallery/datasets.js';
import { lfwDir, needLfw, repoRoot } from '../helpers/datasets.js';
import { collectorClientId } from '../../src/fleet/collector.js';
import { dayFileName } from '../../src/audit/files.js';
import { loadConfig } from '../../src/config/index.js';
import { personId } from '../../src/fleet/envelope.js';
import { loadSiteKey } from '../../src/fleet/key.js';
import { fleetTopics } from '../../src/fleet/topics.js';

/** The `facegate fleet` commands as a user runs them: a child process, a config file, a broker. */
function siteConfig(dir: string, url: string, base: string): string {
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify({ deviceId: 'workstation', mqtt: { url, embedded: 'never', baseTopic: base }, fleet: { keyFile: join(dir, 'site.key') } }));
  return file;
}

test('fleet init makes a 0600 key once; audit answers who opened which door when from the collector store', async (t) => {
  const dir = tempDir(t);
  const config = siteConfig(dir, 'mqtt://127.0.0.1:1', 'unused');
  const first = await cli(dir, ['fleet', 'init', '--config', config]);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /copy this file to every door/i);
  assert.equal(statSync(join(dir, 'site.key')).mode & 0o777, 0o600);
  const again = await cli(dir, ['fleet', 'init', '--config', config]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /exists already/);

  const store = join(dir, 'state', 'fleet', 'audit');
  mkdirSync(store, { recursive: true });
  const lines = [
    { ...makeAttempt({ ts: '2026-11-30T08:00:00.000Z', decision: 'granted', identity: 'alice' }), door: 'front' },
    { ...makeAttempt({ ts: '2026-11-30T08:05:00.000Z', decision: 'denied', identity: 'bob' }), door: 'back' },
    { ...makeAttempt({ ts: '2026-11-30T09:00:00.000Z', decision: 'granted', identity: 'alice' }), door: 'back' },
  ];
  writeFileSync(join(store, dayFileName('2026-11-30')), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  const table = await cli(dir, ['fleet', 'audit', '--config', config]);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /2026-11-30 08:00:00 +front +granted +alice/);
  assert.match(table.stdout, /3 attempt\(s\)/);
  const json = await cli(dir, ['fleet', 'audit', '--config', config, '--door', 'back', '--decision', 'granted', '--json']);
  assert.deepEqual(json.stdout.trim().split('\n').map((l) => JSON.parse(l).id), [lines[2]!.id]);
  const usage = await cli(dir, ['fleet', 'audit', '--config', config, '--decision', 'maybe']);
  assert.equal(usage.code, 64);
});

test('fleet enroll, list, revoke and status against a broker, with the real model (photos stay on this machine)', { timeout: 180_000, skip: needLfw() || modelReady }, async (t) => {
  const dir = tempDir(t);
  const broker = await startTestBroker();
  const base = `fg-cli-${randomBytes(4).toString('hex')}`;
  const config = siteConfig(dir, broker.url, base);
  const published: string[] = [];
  t.after(async () => {
    await clearRetained(broker.url, published).catch(() => undefined);
    await broker.close();
  });
  assert.equal((await cli(dir, ['fleet', 'init', '--config', config])).code, 0);
  // For the cleanup: the one person topic this test writes.
  const key = loadSiteKey(loadConfig({ env: {}, file: config }).getProperties());
  published.push(...['ann', 'ben'].map((name) => fleetTopics({ mqtt: { baseTopic: base } } as never).person(personId(key, name))));
  const missing = await cli(dir, ['fleet', 'revoke', 'nobody', '--config', config]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /nobody is not in the site gallery/);

  const [person] = listIdentities(lfwDir).filter((i) => i.images.length >= 7);
  const enrolled = await cli(dir, ['fleet', 'enroll', 'ann', '--images', join(lfwDir, person!.name), '--doors', 'front,back', '--json', '--config', config]);
  assert.equal(enrolled.code, 0, enrolled.stderr);
  const summary = JSON.parse(enrolled.stdout) as { embeddings: number; doors: string[]; version: number };
  assert.ok(summary.embeddings >= 5);
  assert.deepEqual(summary.doors, ['front', 'back']);
  const list = await cli(dir, ['fleet', 'list', '--json', '--config', config]);
  const rows = list.stdout.trim().split('\n').map((l) => JSON.parse(l) as { name: string; kind: string; version: number; doors: string[] });
  assert.deepEqual(rows.map((r) => [r.name, r.kind, r.version, r.doors]), [['ann', 'person', summary.version, ['front', 'back']]]);

  // `facegate enroll` on a door with fleet.enabled: enrolled here (photos in this door's gallery) and on the site.
  const doorConfig = join(dir, 'door.json');
  writeFileSync(doorConfig, JSON.stringify({ ...JSON.parse(readFileSync(config, 'utf8')), deviceId: 'front', fleet: { enabled: true, keyFile: join(dir, 'site.key') } }));
  const local = await cli(dir, ['enroll', 'ben', '--images', join(lfwDir, person!.name), '--json', '--config', doorConfig]);
  assert.equal(local.code, 0, local.stderr);
  const localSummary = JSON.parse(local.stdout) as { added: number; site: { name: string; doors: string; embeddings: number } };
  assert.ok(localSummary.added >= 5);
  assert.deepEqual([localSummary.site.name, localSummary.site.doors], ['ben', 'all']);
  const both = await cli(dir, ['fleet', 'list', '--json', '--config', config]);
  assert.deepEqual(both.stdout.trim().split('\n').map((l) => JSON.parse(l).name), ['ann', 'ben']);

  const revoked = await cli(dir, ['fleet', 'revoke', 'ann', '--config', config]);
  assert.equal(revoked.code, 0, revoked.stderr);
  const after = await cli(dir, ['fleet', 'list', '--json', '--config', config]);
  const row = JSON.parse(after.stdout.trim().split('\n')[0]!) as { name: string; kind: string; version: number };
  assert.equal(row.name, 'ann');
  assert.equal(row.kind, 'revoked');
  assert.ok(row.version > summary.version);
  const status = await cli(dir, ['fleet', 'status', '--config', config]);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, new RegExp(`no doors found under ${base}/`));
});

test('fleet collect runs until SIGTERM, stores what the doors publish with their door id, and says what it did', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const broker = await startTestBroker();
  const base = `fg-collect-${randomBytes(4).toString('hex')}`;
  const config = siteConfig(dir, broker.url, base);
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli.ts'), 'fleet', 'collect', '--config', config], {
    cwd: repoRoot, env: { PATH: process.env.PATH ?? '', HOME: dir, FACEGATE_STATE_DIR: join(dir, 'state'), FACEGATE_LOG_LEVEL: 'warn' },
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  t.after(async () => {
    child.kill('SIGKILL');
    // The collector's persistent session must not linger on a shared broker.
    const purge = await connectAsync(broker.url, { clientId: collectorClientId({ mqtt: { baseTopic: base } } as never), clean: true, reconnectPeriod: 0 }).catch(() => null);
    await purge?.endAsync();
    await broker.close();
  });
  while (!/collecting every door's attempts/.test(stderr)) {
    if (child.exitCode !== null) assert.fail(`collector exited: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const publisher = await connectAsync(broker.url, { reconnectPeriod: 0 });
  const attempt = makeAttempt();
  await publisher.publishAsync(`${base}/gate-7/attempt`, JSON.stringify(attempt), { qos: 1 });
  await publisher.endAsync();
  const file = join(dir, 'state', 'fleet', 'audit', dayFileName(attempt.ts.slice(0, 10)));
  while (!existsSync(file) || !readFileSync(file, 'utf8').includes(attempt.id)) await new Promise((resolve) => setTimeout(resolve, 50));
  child.kill('SIGTERM');
  assert.equal(await exited, 0, stderr);
  assert.match(stderr, /stopped: \{"stored":1,"duplicates":0,"refused":0\}/);
  assert.equal(JSON.parse(readFileSync(file, 'utf8').trim()).door, 'gate-7');
});
