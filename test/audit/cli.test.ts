import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuditLog } from '../../src/audit/log.js';
import { parseTimeBound } from '../../src/audit/time.js';
import { repoRoot } from '../helpers/datasets.js';
import { attempt, memoryLogger, tempDir } from './helpers.js';

function audit(args: string[]) {
  const env = { ...process.env };
  delete env.FACEGATE_CONFIG;
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'audit', ...args], { cwd: repoRoot, env, encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('time bounds: durations back from now, UTC dates, ISO times; nonsense is refused', () => {
  const now = Date.parse('2026-11-29T12:00:00Z');
  assert.equal(parseTimeBound('24h', now), Date.parse('2026-11-28T12:00:00Z'));
  assert.equal(parseTimeBound('7d', now), Date.parse('2026-11-22T12:00:00Z'));
  assert.equal(parseTimeBound('90m', now), Date.parse('2026-11-29T10:30:00Z'));
  assert.equal(parseTimeBound('2026-11-01', now), Date.parse('2026-11-01T00:00:00Z'));
  assert.equal(parseTimeBound('2026-11-01T08:30:00+01:00', now), Date.parse('2026-11-01T07:30:00Z'));
  assert.throws(() => parseTimeBound('yesterday', now), /cannot read "yesterday"/);
});

test('facegate audit lists attempts as a table, as JSON lines, filtered, and reports damaged lines on stderr', async () => {
  const tmp = tempDir();
  const now = Date.now();
  const recent = new Date(now - 60_000).toISOString();
  const older = new Date(now - 3 * 86_400_000).toISOString();
  const log = new AuditLog({ stateDir: tmp.path, snapshots: false, retention: { retentionDays: 30, maxBytes: 1e9 }, log: memoryLogger().log });
  const granted = attempt(recent, 'granted', { identity: 'alice' });
  const denied = attempt(older, 'denied', { reason: 'below threshold' });
  await log.attempt(denied);
  await log.attempt(granted);
  await log.close();
  appendFileSync(join(tmp.path, 'audit', `attempts-${recent.slice(0, 10)}.jsonl`), '{"id":"cut-sh');
  try {
    const table = audit(['--state-dir', tmp.path]);
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.trim().split('\n');
    assert.match(lines[0]!, /^time \(UTC\)\s+decision\s+identity/);
    assert.match(lines[1]!, /denied/);
    assert.match(lines[1]!, /below threshold/);
    assert.match(lines[2]!, /granted\s+alice/);
    assert.match(table.stdout, /2 attempt\(s\)/);
    assert.match(table.stderr, /skipped 1 damaged line/);

    const json = audit(['--json', '--since', '1d', '--state-dir', tmp.path]);
    assert.equal(json.code, 0, json.stderr);
    const records = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: string });
    assert.deepEqual(records.map((r) => r.id), [granted.id]);

    const onlyDenied = audit(['--json', '--decision', 'denied', '--state-dir', tmp.path]);
    assert.deepEqual(onlyDenied.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { id: string }).id), [denied.id]);

    const bad = audit(['--decision', 'maybe', '--state-dir', tmp.path]);
    assert.equal(bad.code, 64);
    assert.match(bad.stderr, /--decision must be/);

    const typo = audit(['--state-dri', tmp.path]);
    assert.equal(typo.code, 78, 'an unknown flag is a configuration error, not silently ignored');
    assert.match(typo.stderr, /--state-dri/);
  } finally {
    tmp.remove();
  }
});

test('facegate audit shows spoof attempts (not as damaged lines) and filters them with --decision spoof', async () => {
  const tmp = tempDir();
  const ts = new Date(Date.now() - 60_000).toISOString();
  const log = new AuditLog({ stateDir: tmp.path, snapshots: false, retention: { retentionDays: 30, maxBytes: 1e9 }, log: memoryLogger().log });
  const spoof = attempt(ts, 'spoof', {
    reason: 'liveness (burst): the face moves as one flat plane',
    liveness: { mode: 'burst', passed: false, scores: { parallax: 0.012, change: 24 } },
  });
  await log.attempt(attempt(ts, 'denied'));
  await log.attempt(spoof);
  await log.close();
  try {
    const table = audit(['--state-dir', tmp.path]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /spoof\s/);
    assert.match(table.stdout, /2 attempt\(s\)/);
    assert.doesNotMatch(table.stderr, /damaged/);
    const only = audit(['--json', '--decision', 'spoof', '--state-dir', tmp.path]);
    const records = only.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: string; liveness: { scores: Record<string, number> } });
    assert.deepEqual(records.map((r) => r.id), [spoof.id]);
    assert.equal(records[0]!.liveness.scores.parallax, 0.012);
  } finally {
    tmp.remove();
  }
});
