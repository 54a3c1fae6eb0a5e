import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AttemptEvent } from '../core/events.js';
import { DECISIONS, type Decision } from '../core/types.js';
import { dayOfFile, utcDay } from './files.js';

export interface AuditQuery {
  /** Inclusive lower bound (epoch ms). */
  since?: number;
  /** Exclusive upper bound (epoch ms). */
  until?: number;
  decision?: Decision;
}

export interface AuditReadResult {
  /** Oldest first. */
  attempts: AttemptEvent[];
  /** Lines that were not a whole JSON record: a line cut short by a power loss, or damage. */
  skippedLines: number;
  files: string[];
}

export function isDecision(value: string): value is Decision {
  return (DECISIONS as readonly string[]).includes(value);
}

/** A line is a record only if it parses and carries the fields every reader relies on. */
function parseLine(line: string): AttemptEvent | null {
  try {
    const value = JSON.parse(line) as Partial<AttemptEvent>;
    if (!value || typeof value !== 'object' || typeof value.id !== 'string' || typeof value.ts !== 'string') return null;
    if (typeof value.decision !== 'string' || !isDecision(value.decision)) return null;
    return value as AttemptEvent;
  } catch {
    return null;
  }
}

/** Reads the audit trail, tolerating damaged lines (skipped and counted, never fatal). */
export async function readAttempts(dir: string, query: AuditQuery = {}): Promise<AuditReadResult> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { attempts: [], skippedLines: 0, files: [] };
    throw error;
  }
  // File names carry the day, so whole days outside the range are never opened.
  const firstDay = query.since !== undefined ? utcDay(query.since) : null;
  const lastDay = query.until !== undefined ? utcDay(query.until) : null;
  const files = names
    .filter((name) => {
      const day = dayOfFile(name);
      return day !== null && (firstDay === null || day >= firstDay) && (lastDay === null || day <= lastDay);
    })
    .sort();

  const attempts: AttemptEvent[] = [];
  let skippedLines = 0;
  for (const name of files) {
    const text = await readFile(join(dir, name), 'utf8');
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      const event = parseLine(line);
      if (!event) {
        skippedLines++;
        continue;
      }
      const time = Date.parse(event.ts);
      if (query.since !== undefined && !(time >= query.since)) continue;
      if (query.until !== undefined && !(time < query.until)) continue;
      if (query.decision !== undefined && event.decision !== query.decision) continue;
      attempts.push(event);
    }
  }
  attempts.sort((a, b) => Date.parse(a.ts) - Date.parse(b.ts));
  return { attempts, skippedLines, files: files.map((name) => join(dir, name)) };
}
