import { readdir, rm, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import { dayOfFile, dayOfSnapshotDir } from './files.js';

export interface RetentionLimits {
  /** Days older than this many days before today are deleted (audit.retentionDays). */
  retentionDays: number;
  /** The audit folder is trimmed, oldest first, until it holds at most this many bytes (audit.maxBytes). */
  maxBytes: number;
}

export interface RetentionResult {
  deleted: string[];
  freedBytes: number;
  /** Bytes left in the audit folder afterwards. */
  totalBytes: number;
}

interface AuditFile {
  path: string;
  day: string;
  /** Snapshots go before the day's attempt lines: the record matters more than the picture. */
  rank: 0 | 1;
  size: number;
  mtimeMs: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** First day that is still kept: today minus retentionDays (UTC). */
export function oldestKeptDay(today: string, retentionDays: number): string {
  return new Date(Date.parse(`${today}T00:00:00Z`) - retentionDays * DAY_MS).toISOString().slice(0, 10);
}

/**
 * Deletes by age, then by size, oldest first. `keep` (the file currently open for appending) is never deleted:
 * removing an open file would silently swallow the lines written after it.
 */
export async function enforceRetention(
  dir: string,
  limits: RetentionLimits,
  context: { today: string; keep?: string | null; log?: Logger },
): Promise<RetentionResult> {
  const files = await listAuditFiles(dir);
  const keep = context.keep ? join(dir, context.keep) : null;
  const cutoff = oldestKeptDay(context.today, limits.retentionDays);
  const deleted: string[] = [];
  let freedBytes = 0;
  const remove = async (file: AuditFile) => {
    await rm(file.path, { force: true });
    deleted.push(file.path);
    freedBytes += file.size;
  };

  const survivors: AuditFile[] = [];
  for (const file of files) {
    if (file.day < cutoff && file.path !== keep) await remove(file);
    else survivors.push(file);
  }
  let total = survivors.reduce((sum, f) => sum + f.size, 0);
  for (const file of survivors) {
    if (total <= limits.maxBytes) break;
    if (file.path === keep) continue;
    await remove(file);
    total -= file.size;
  }
  if (total > limits.maxBytes) {
    context.log?.warn({ totalBytes: total, maxBytes: limits.maxBytes }, 'audit: only the open file is left and it exceeds audit.maxBytes');
  }
  await removeEmptySnapshotDirs(dir);
  if (deleted.length) context.log?.info({ deleted: deleted.length, freedBytes }, 'audit: retention removed old files');
  return { deleted, freedBytes, totalBytes: total };
}

/** Every attempts file and snapshot under the audit folder, oldest first. */
async function listAuditFiles(dir: string): Promise<AuditFile[]> {
  const out: AuditFile[] = [];
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return out;
    throw error;
  }
  for (const entry of entries) {
    const fileDay = entry.isFile() ? dayOfFile(entry.name) : null;
    if (fileDay) {
      const info = await stat(join(dir, entry.name));
      out.push({ path: join(dir, entry.name), day: fileDay, rank: 1, size: info.size, mtimeMs: info.mtimeMs });
      continue;
    }
    const snapDay = entry.isDirectory() ? dayOfSnapshotDir(entry.name) : null;
    if (!snapDay) continue;
    for (const name of await readdir(join(dir, entry.name))) {
      const path = join(dir, entry.name, name);
      const info = await stat(path);
      if (info.isFile()) out.push({ path, day: snapDay, rank: 0, size: info.size, mtimeMs: info.mtimeMs });
    }
  }
  return out.sort((a, b) => a.day.localeCompare(b.day) || a.rank - b.rank || a.mtimeMs - b.mtimeMs);
}

async function removeEmptySnapshotDirs(dir: string): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    if (!entry.isDirectory() || !dayOfSnapshotDir(entry.name)) continue;
    const path = join(dir, entry.name);
    if ((await readdir(path)).length === 0) await rmdir(path).catch(() => undefined);
  }
}
