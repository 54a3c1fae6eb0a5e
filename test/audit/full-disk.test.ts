import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../helpers/datasets.js';

// issue 11 item 8: the audit log never loses or fuses records, and says when it is failing.

function needMountNamespace(): string | false {
  const dir = mkdtempSync(join(tmpdir(), 'facegate-probe-'));
  try {
    const probe = spawnSync('unshare', ['-m', '--propagation', 'private', 'mount', '-t', 'tmpfs', '-o', 'size=64k', 'facegate-probe', dir], { encoding: 'utf8' });
    if (probe.error) return `unshare not available: ${probe.error.message}`;
    if (probe.status !== 0) return `cannot mount a small tmpfs in a private namespace (needs root / CAP_SYS_ADMIN): ${probe.stderr.trim()}`;
    return false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a disk that fills up and frees again: every line on disk is readable, no record written after the disk freed is lost, health goes failing -> ok', { skip: needMountNamespace() }, async () => {
  const seen = await new Promise<{ results: boolean[]; health: string[]; records: string[]; skippedLines: number }>((resolve, reject) => {
    execFile('unshare', ['-m', '--propagation', 'private', process.execPath, '--import', 'tsx', 'test/fixtures/audit-full-disk.ts'],
      { cwd: repoRoot, timeout: 60_000 }, (error, stdout, stderr) => {
        try {
          resolve(JSON.parse(stdout.trim().split('\n').pop() ?? ''));
        } catch {
          reject(new Error(`fixture failed: ${error?.message ?? ''}\n${stdout}\n${stderr}`));
        }
      });
  });
  assert.equal(seen.skippedLines, 0, 'no fragment and no fused pair of records');
  assert.ok(seen.results.includes(false), 'the full disk did refuse some records');
  assert.ok(seen.health.includes('failing'), 'and the log said so');
  assert.equal(seen.health.at(-1), 'ok', 'until it could write again');
  // Every record reported as written is on disk, and nothing else.
  const written = seen.results.flatMap((ok, i) => (ok ? [i] : []));
  assert.equal(seen.records.length, written.length, JSON.stringify(seen));
  // All six records after the disk was freed are there (the old log fused the first of them with a fragment).
  assert.deepEqual(seen.results.slice(7), [true, true, true, true, true, true]);
});
