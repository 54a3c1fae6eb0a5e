import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { enforceRetention, oldestKeptDay } from '../../src/audit/retention.js';
import { AuditLog } from '../../src/audit/log.js';
import { attempt, memoryLogger, tempDir } from './helpers.js';

function seed(dir: string, day: string, bytes: number, snapshots: number[] = []) {
  writeFileSync(join(dir, `attempts-${day}.jsonl`), Buffer.alloc(bytes, 0x61));
  if (snapshots.length) {
    mkdirSync(join(dir, `snapshots-${day}`), { recursive: true });
    snapshots.forEach((size, i) => writeFileSync(join(dir, `snapshots-${day}`, `s${i}.jpg`), Buffer.alloc(size)));
  }
}

test('oldestKeptDay counts whole UTC days back', () => {
  assert.equal(oldestKeptDay('2026-03-01', 1), '2026-02-28');
  assert.equal(oldestKeptDay('2026-11-29', 90), '2026-08-31');
});

test('retention by days deletes older day files and their snapshots, and keeps the rest', async () => {
  const tmp = tempDir();
  try {
    seed(tmp.path, '2026-11-01', 10, [5]);
    seed(tmp.path, '2026-11-20', 10, [5]);
    seed(tmp.path, '2026-11-29', 10);
    writeFileSync(join(tmp.path, 'notes.txt'), 'not ours');
    const result = await enforceRetention(tmp.path, { retentionDays: 10, maxBytes: 1_000_000 }, { today: '2026-11-29' });
    assert.equal(result.deleted.length, 2);
    assert.equal(result.freedBytes, 15);
    assert.deepEqual(readdirSync(tmp.path).sort(), ['attempts-2026-11-20.jsonl', 'attempts-2026-11-29.jsonl', 'notes.txt', 'snapshots-2026-11-20']);
  } finally {
    tmp.remove();
  }
});

test('retention by size removes oldest first, snapshots before the lines of the same day', async () => {
  const tmp = tempDir();
  try {
    seed(tmp.path, '2026-11-27', 100, [50]);
    seed(tmp.path, '2026-11-28', 100, [50, 50]);
    seed(tmp.path, '2026-11-29', 100);
    // 450 bytes in all; 260 allowed -> drop 27's snapshot, 27's lines, then one of 28's snapshots.
    const result = await enforceRetention(tmp.path, { retentionDays: 365, maxBytes: 260 }, { today: '2026-11-29' });
    assert.equal(result.totalBytes, 250);
    assert.equal(existsSync(join(tmp.path, 'attempts-2026-11-27.jsonl')), false);
    assert.equal(existsSync(join(tmp.path, 'snapshots-2026-11-27')), false, 'empty snapshot folder removed');
    assert.equal(existsSync(join(tmp.path, 'attempts-2026-11-28.jsonl')), true);
    assert.equal(readdirSync(join(tmp.path, 'snapshots-2026-11-28')).length, 1);
    assert.equal(existsSync(join(tmp.path, 'attempts-2026-11-29.jsonl')), true);
  } finally {
    tmp.remove();
  }
});

test('the file open for appending is never deleted, even when it alone is over the limit', async () => {
  const tmp = tempDir();
  const { log, lines } = memoryLogger();
  try {
    seed(tmp.path, '2026-11-28', 100);
    seed(tmp.path, '2026-11-29', 500);
    const result = await enforceRetention(tmp.path, { retentionDays: 30, maxBytes: 200 }, { today: '2026-11-29', keep: 'attempts-2026-11-29.jsonl', log });
    assert.deepEqual(readdirSync(tmp.path), ['attempts-2026-11-29.jsonl']);
    assert.equal(result.totalBytes, 500);
    assert.ok(lines.some((l) => l.level === 40 && String(l.msg).includes('exceeds audit.maxBytes')));
  } finally {
    tmp.remove();
  }
});

test('the audit log applies retention when it starts and when a new day begins', async () => {
  const tmp = tempDir();
  let now = Date.parse('2026-11-29T12:00:00Z');
  const auditDir = join(tmp.path, 'audit');
  mkdirSync(auditDir);
  seed(auditDir, '2026-11-01', 10);
  const audit = new AuditLog({ stateDir: tmp.path, snapshots: false, retention: { retentionDays: 7, maxBytes: 1_000_000 }, log: memoryLogger().log, now: () => now });
  try {
    await audit.start();
    assert.equal(existsSync(join(auditDir, 'attempts-2026-11-01.jsonl')), false);
    await audit.attempt(attempt('2026-11-29T12:00:00.000Z'));
    now = Date.parse('2026-12-07T00:00:01Z');
    await audit.attempt(attempt('2026-12-07T00:00:01.000Z'));
    // 29 Nov is now 8 days old: removed when the first line of 7 Dec was written.
    assert.deepEqual(readdirSync(auditDir), ['attempts-2026-12-07.jsonl']);
  } finally {
    await audit.close();
    tmp.remove();
  }
});
