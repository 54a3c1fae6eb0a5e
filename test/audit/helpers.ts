import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/log.js';
import type { AttemptEvent } from '../../src/core/events.js';
import type { Decision } from '../../src/core/types.js';

export function tempDir(prefix = 'facegate-audit-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** A logger whose lines are kept for assertions. */
export function memoryLogger(): { log: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      for (const text of String(chunk).split('\n')) if (text) lines.push(JSON.parse(text) as Record<string, unknown>);
      done();
    },
  });
  return { log: createLogger({ level: 'debug', destination }), lines };
}

let counter = 0;
export function attempt(ts: string, decision: Decision = 'granted', extra: Partial<AttemptEvent> = {}): AttemptEvent {
  counter++;
  return {
    id: `a${counter}-${ts.replace(/[^0-9]/g, '')}`,
    ts,
    trigger: 'button',
    decision,
    identity: decision === 'granted' ? 'alice' : null,
    fraction: decision === 'granted' ? 0.8 : 0.1,
    meanScore: 0.7,
    thresholds: { detection: 0.5, verification: 0.5 },
    timings: { total: 123 },
    face: null,
    ...extra,
  };
}
