import { join } from 'node:path';

/** Everything the audit trail writes lives under <paths.state>/audit. */
export function auditDir(stateDir: string): string {
  return join(stateDir, 'audit');
}

const DAY_FILE = /^attempts-(\d{4}-\d{2}-\d{2})\.jsonl$/;

/** UTC calendar day of an instant, YYYY-MM-DD: one audit file per day, named so it sorts by date. */
export function utcDay(time: number | string | Date): string {
  const date = new Date(time);
  if (Number.isNaN(date.getTime())) throw new Error(`not a valid time: ${String(time)}`);
  return date.toISOString().slice(0, 10);
}

export function dayFileName(day: string): string {
  return `attempts-${day}.jsonl`;
}

/** The day an attempts file covers, or null when the name is not an attempts file. */
export function dayOfFile(name: string): string | null {
  return DAY_FILE.exec(name)?.[1] ?? null;
}

/** Snapshots of one day sit in their own folder beside that day's file, so retention removes them together. */
export function snapshotDirName(day: string): string {
  return `snapshots-${day}`;
}

const SNAPSHOT_DIR = /^snapshots-(\d{4}-\d{2}-\d{2})$/;
export function dayOfSnapshotDir(name: string): string | null {
  return SNAPSHOT_DIR.exec(name)?.[1] ?? null;
}

/** Attempt ids become file names; anything outside a safe alphabet is replaced so an id cannot escape the folder. */
export function snapshotFileName(attemptId: string): string {
  const safe = attemptId.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^\.+/, '_');
  return `${safe || 'attempt'}.jpg`;
}

/** Where AuditLog writes the probe face of an attempt (only when audit.snapshots was on at that time). */
export function snapshotPath(dir: string, event: { id: string; ts: string }): string {
  return join(dir, snapshotDirName(utcDay(event.ts)), snapshotFileName(event.id));
}
