import { closeSync, existsSync, fdatasyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Settings } from '../config/index.js';
import type { AttemptEvent } from '../core/events.js';
import { dayFileName, utcDay } from '../audit/files.js';
import { isDecision } from '../audit/read.js';

/**
 * The site's audit trail: every door's attempts in one append-only store, each line an AttemptEvent plus
 * the `door` it came from, in the same day files as a door's own audit log (`attempts-YYYY-MM-DD.jsonl`, by
 * the attempt's UTC day), so `facegate audit` tooling reads both. Each line is flushed to the device before
 * the broker is told the message arrived, and an id already stored is not stored again: redeliveries after a
 * collector restart or a door's outbox retry land exactly once.
 */
export type SiteAttempt = AttemptEvent & { door: string };

/** Day files whose ids are kept in memory for the duplicate check (the rest are read again when needed). */
const DAYS_IN_MEMORY = 40;

export function collectorDir(settings: Pick<Settings, 'fleet' | 'paths'>): string {
  return settings.fleet.collectorDir || join(settings.paths.state, 'fleet', 'audit');
}

/** An attempt as published, checked for what the store relies on; null = not an attempt. */
export function parseAttempt(payload: Buffer): AttemptEvent | null {
  try {
    const value = JSON.parse(payload.toString('utf8')) as Partial<AttemptEvent>;
    if (!value || typeof value !== 'object' || typeof value.id !== 'string' || value.id.length === 0 || value.id.length > 128) return null;
    if (typeof value.ts !== 'string' || Number.isNaN(Date.parse(value.ts))) return null;
    if (typeof value.decision !== 'string' || !isDecision(value.decision)) return null;
    return value as AttemptEvent;
  } catch {
    return null;
  }
}

export class SiteAuditStore {
  private readonly days = new Map<string, { ids: Set<string>; needsNewline: boolean }>();

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  private day(day: string) {
    let known = this.days.get(day);
    if (known) return known;
    const file = join(this.dir, dayFileName(day));
    known = { ids: new Set<string>(), needsNewline: false };
    if (existsSync(file)) {
      const text = readFileSync(file, 'utf8');
      for (const line of text.split('\n')) {
        const event = line.trim() ? parseAttempt(Buffer.from(line)) : null;
        if (event) known.ids.add(event.id);
      }
      // A line cut short by a power loss must not swallow the next record.
      known.needsNewline = text.length > 0 && !text.endsWith('\n');
    }
    this.days.set(day, known);
    if (this.days.size > DAYS_IN_MEMORY) this.days.delete(this.days.keys().next().value!);
    return known;
  }

  has(event: AttemptEvent): boolean {
    return this.day(utcDay(event.ts)).ids.has(event.id);
  }

  /** Appends and flushes to the device; 'duplicate' when this id is stored already. */
  append(door: string, event: AttemptEvent): 'stored' | 'duplicate' {
    const dayName = utcDay(event.ts);
    const day = this.day(dayName);
    if (day.ids.has(event.id)) return 'duplicate';
    const line = `${day.needsNewline ? '\n' : ''}${JSON.stringify({ ...event, door })}\n`;
    const fd = openSync(join(this.dir, dayFileName(dayName)), 'a', 0o640);
    try {
      writeSync(fd, line);
      fdatasyncSync(fd);
    } finally {
      closeSync(fd);
    }
    day.needsNewline = false;
    day.ids.add(event.id);
    return 'stored';
  }
}
