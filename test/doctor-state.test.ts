import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { daemonAuditCheck, stateDirCheck } from '../src/doctor/state.js';

// issue 11 item 8: `facegate doctor` says "audit failing" when the running daemon does.

test('doctor reports the running daemon\'s failing audit and degraded state, and passes a healthy one', () => {
  const state = mkdtempSync(join(tmpdir(), 'facegate-doctor-state-'));
  try {
    const settings = { paths: { data: state, state } };
    assert.equal(stateDirCheck(settings).status, 'pass');
    assert.equal(daemonAuditCheck(settings).status, 'skip', 'no daemon yet');
    const status = (audit: string, degraded: string[]) => writeFileSync(join(state, 'status.json'), JSON.stringify({
      pid: process.pid, startedAt: '', updatedAt: '', reloads: 0,
      status: { mode: 'idle', relay: false, audit, degraded },
    }));
    status('failing', ['audit failing: attempts are not being recorded']);
    const failing = daemonAuditCheck(settings);
    assert.equal(failing.status, 'fail');
    assert.match(failing.detail, /audit failing/);
    assert.match(failing.fix ?? '', /audit\.required/);
    status('ok', []);
    assert.equal(daemonAuditCheck(settings).status, 'pass');
  } finally {
    rmSync(state, { recursive: true, force: true });
  }
});
