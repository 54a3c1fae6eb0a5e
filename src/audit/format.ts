import type { AttemptEvent } from '../core/events.js';

const COLUMNS = ['time (UTC)', 'decision', 'identity', 'fraction', 'score', 'trigger', 'ms', 'id / reason'] as const;

function row(event: AttemptEvent): string[] {
  const num = (value: unknown, digits: number) => (typeof value === 'number' && Number.isFinite(value) ? value.toFixed(digits) : '-');
  return [
    event.ts.replace('T', ' ').replace(/\.\d+Z$|Z$/, ''),
    event.decision,
    event.identity ?? '-',
    num(event.fraction, 2),
    num(event.meanScore, 3),
    event.trigger ?? '-',
    num(event.timings?.total, 0),
    event.reason ? `${event.id} ${event.reason}` : event.id,
  ];
}

/** A plain-text table for people; the last column is free text and is not padded. */
export function attemptsTable(events: AttemptEvent[]): string {
  const rows = [Array.from(COLUMNS), ...events.map(row)];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd())
    .join('\n');
}
