import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readFileSync, readdirSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { AuditLog } from '../../src/audit/log.js';
import { readAttempts } from '../../src/audit/read.js';
import { attempt, memoryLogger, tempDir } from './helpers.js';

const limits = { retentionDays: 90, maxBytes: 50 * 1024 * 1024 };

test('each attempt becomes one JSON line in the file of its UTC day', async () => {
  const dir = tempDir();
  const audit = new AuditLog({ stateDir: dir.path, snapshots: false, retention: limits, log: memoryLogger().log, now: () => Date.parse('2026-11-29T12:00:00Z') });
  try {
    await audit.start();
    const late = attempt('2026-11-28T23:59:59.500Z', 'denied');
    const early = attempt('2026-11-29T00:00:00.100Z', 'granted');
    await audit.attempt(late);
    await audit.attempt(early);
    await audit.close();
    const day1 = readFileSync(join(dir.path, 'audit', 'attempts-2026-11-28.jsonl'), 'utf8');
    const day2 = readFileSync(join(dir.path, 'audit', 'attempts-2026-11-29.jsonl'), 'utf8');
    assert.deepEqual(day1.split('\n'), [JSON.stringify(late), '']);
    assert.deepEqual(JSON.parse(day2.trim()), early);
  } finally {
    dir.remove();
  }
});

test('concurrent attempts never interleave and all are kept', async () => {
  const dir = tempDir();
  const audit = new AuditLog({ stateDir: dir.path, snapshots: false, retention: limits, log: memoryLogger().log, now: () => Date.parse('2026-11-29T12:00:00Z') });
  try {
    await audit.start();
    const events = Array.from({ length: 50 }, (_, i) => attempt(`2026-11-29T10:00:${String(i).padStart(2, '0')}.000Z`, i % 2 ? 'denied' : 'granted'));
    await Promise.all(events.map((e) => audit.attempt(e)));
    await audit.close();
    const result = await readAttempts(join(dir.path, 'audit'));
    assert.equal(result.skippedLines, 0);
    assert.deepEqual(result.attempts.map((e) => e.id), events.map((e) => e.id));
  } finally {
    dir.remove();
  }
});

test('every line is flushed with datasync before attempt() resolves', async () => {
  const dir = tempDir();
  // Count datasync calls on the real FileHandle class by wrapping its prototype method for this test only.
  const probe = await open(join(dir.path, 'probe'), 'w');
  const proto = Object.getPrototypeOf(probe) as { datasync(): Promise<void>; write: (...args: unknown[]) => Promise<unknown> };
  await probe.close();
  const originalSync = proto.datasync;
  const originalWrite = proto.write;
  const calls: string[] = [];
  proto.write = function (this: unknown, ...args: unknown[]) {
    calls.push('write');
    return originalWrite.apply(this, args);
  };
  proto.datasync = function (this: unknown) {
    calls.push('datasync');
    return originalSync.call(this);
  };
  const audit = new AuditLog({ stateDir: dir.path, snapshots: false, retention: limits, log: memoryLogger().log, now: () => Date.parse('2026-11-29T12:00:00Z') });
  try {
    await audit.start();
    await audit.attempt(attempt('2026-11-29T10:00:00.000Z'));
    assert.deepEqual(calls, ['write', 'datasync']);
    await audit.attempt(attempt('2026-11-29T10:00:01.000Z'));
    assert.deepEqual(calls, ['write', 'datasync', 'write', 'datasync']);
  } finally {
    proto.datasync = originalSync;
    proto.write = originalWrite;
    await audit.close();
    dir.remove();
  }
});

test('a snapshot JPEG is kept beside the day file, named by attempt id, only when enabled', async () => {
  const dir = tempDir();
  const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 0xff, 0xd9]);
  const now = () => Date.parse('2026-11-29T12:00:00Z');
  try {
    const withSnaps = new AuditLog({ stateDir: dir.path, snapshots: true, retention: limits, log: memoryLogger().log, now });
    const event = attempt('2026-11-29T10:00:00.000Z', 'granted', { id: 'abc-123' });
    await withSnaps.attempt(event, jpeg);
    await withSnaps.close();
    assert.deepEqual(readFileSync(join(dir.path, 'audit', 'snapshots-2026-11-29', 'abc-123.jpg')), jpeg);

    const withoutSnaps = new AuditLog({ stateDir: dir.path, snapshots: false, retention: limits, log: memoryLogger().log, now });
    await withoutSnaps.attempt(attempt('2026-11-29T10:00:01.000Z', 'denied', { id: 'def-456' }), jpeg);
    await withoutSnaps.close();
    assert.equal(existsSync(join(dir.path, 'audit', 'snapshots-2026-11-29', 'def-456.jpg')), false);

    // An id with path separators cannot write outside the snapshot folder.
    const hostile = new AuditLog({ stateDir: dir.path, snapshots: true, retention: limits, log: memoryLogger().log, now });
    await hostile.attempt(attempt('2026-11-29T10:00:02.000Z', 'denied', { id: '../../escape' }), jpeg);
    await hostile.close();
    assert.equal(existsSync(join(dir.path, 'escape.jpg')), false);
    assert.ok(readdirSync(join(dir.path, 'audit', 'snapshots-2026-11-29')).some((n) => n.endsWith('escape.jpg')));
  } finally {
    dir.remove();
  }
});

test('a truncated last line (power loss) is skipped with a count, and the next append starts on a fresh line', async () => {
  const dir = tempDir();
  const now = () => Date.parse('2026-11-29T12:00:00Z');
  try {
    const first = new AuditLog({ stateDir: dir.path, snapshots: false, retention: limits, log: memoryLogger().log, now });
    const kept = attempt('2026-11-29T09:00:00.000Z');
    await first.attempt(kept);
    await first.close();
    const file = join(dir.path, 'audit', 'attempts-2026-11-29.jsonl');
    const cut = JSON.stringify(attempt('2026-11-29T09:30:00.000Z'));
    appendFileSync(file, cut.slice(0, cut.length / 2));

    let result = await readAttempts(join(dir.path, 'audit'));
    assert.equal(result.skippedLines, 1);
    assert.deepEqual(result.attempts.map((e) => e.id), [kept.id]);

    const second = new AuditLog({ stateDir: dir.path, snapshots: false, retention: limits, log: memoryLogger().log, now });
    const after = attempt('2026-11-29T10:00:00.000Z', 'denied');
    await second.attempt(after);
    await second.close();
    result = await readAttempts(join(dir.path, 'audit'));
    assert.equal(result.skippedLines, 1);
    assert.deepEqual(result.attempts.map((e) => e.id), [kept.id, after.id]);
  } finally {
    dir.remove();
  }
});

test('a write failure is logged and never thrown into the door', async () => {
  const dir = tempDir();
  const { log, lines } = memoryLogger();
  // The state "folder" is a file, so creating audit/ inside it fails.
  appendFileSync(join(dir.path, 'not-a-dir'), 'x');
  const audit = new AuditLog({ stateDir: join(dir.path, 'not-a-dir'), snapshots: false, retention: limits, log });
  try {
    await audit.attempt(attempt('2026-11-29T10:00:00.000Z'));
    assert.ok(lines.some((l) => l.level === 50 && String(l.msg).includes('could not record')));
  } finally {
    await audit.close();
    dir.remove();
  }
});

test('reading filters by time range and decision', async () => {
  const dir = tempDir();
  const audit = new AuditLog({ stateDir: dir.path, snapshots: false, retention: limits, log: memoryLogger().log, now: () => Date.parse('2026-11-29T12:00:00Z') });
  try {
    const a = attempt('2026-11-27T10:00:00.000Z', 'granted');
    const b = attempt('2026-11-28T10:00:00.000Z', 'denied');
    const c = attempt('2026-11-29T10:00:00.000Z', 'granted');
    for (const e of [a, b, c]) await audit.attempt(e);
    await audit.close();
    const auditDir = join(dir.path, 'audit');
    const since = await readAttempts(auditDir, { since: Date.parse('2026-11-28T00:00:00Z') });
    assert.deepEqual(since.attempts.map((e) => e.id), [b.id, c.id]);
    const until = await readAttempts(auditDir, { until: Date.parse('2026-11-28T10:00:00Z') });
    assert.deepEqual(until.attempts.map((e) => e.id), [a.id]);
    const granted = await readAttempts(auditDir, { decision: 'granted' });
    assert.deepEqual(granted.attempts.map((e) => e.id), [a.id, c.id]);
  } finally {
    dir.remove();
  }
});
