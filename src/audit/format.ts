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

/**
 * A plain-text table for people; the last column is free text and is not padded. With `snapshotOf`, a last
 * column says where each attempt's face image is ("-" when none was kept).
 */
export function attemptsTable(events: AttemptEvent[], snapshotOf?: (event: AttemptEvent) => string | null): string {
  const header: string[] = snapshotOf ? [...COLUMNS, 'snapshot'] : Array.from(COLUMNS);
  const rows = [header, ...events.map((e) => (snapshotOf ? [...row(e), snapshotOf(e) ?? '-'] : row(e)))];
  const widths = header.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd())
    .join('\n');
}
