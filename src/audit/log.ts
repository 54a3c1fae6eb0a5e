import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Settings } from '../config/index.js';
import type { AttemptEvent, EventSink, StatusEvent } from '../core/events.js';
import type { Logger } from '../log.js';
import { auditDir, dayFileName, snapshotDirName, snapshotFileName, utcDay } from './files.js';
import { enforceRetention, type RetentionLimits, type RetentionResult } from './retention.js';

export interface AuditLogOptions {
  stateDir: string;
  /** Keep a JPEG of the probe face beside each line (audit.snapshots). */
  snapshots: boolean;
  retention: RetentionLimits;
  log: Logger;
  /** Time source for retention ("today"); tests move it. */
  now?: () => number;
}

/**
 * The audit trail: every attempt as one JSON line in <state>/audit/attempts-YYYY-MM-DD.jsonl (UTC day of the attempt).
 * Each line is flushed to the storage device (datasync) before attempt() resolves, so a power cut loses at most
 * the line being written. Writes are asynchronous so the door's timers keep running while the SD card is slow,
 * and serialised so lines never interleave.
 */
export class AuditLog implements EventSink {
  private readonly dir: string;
  private readonly now: () => number;
  private current: { day: string; handle: FileHandle } | null = null;
  private queue: Promise<void> = Promise.resolve();
  private lastRetentionDay: string | null = null;
  private closed = false;
  private failure: { since: string; error: string } | null = null;

  constructor(private readonly options: AuditLogOptions) {
    this.dir = auditDir(options.stateDir);
    this.now = options.now ?? Date.now;
  }

  /** Creates the folder and applies retention once, so a full disk is noticed at startup rather than at the door. */
  async start(): Promise<RetentionResult> {
    await mkdir(this.dir, { recursive: true });
    return this.applyRetention();
  }

  /** Never throws into the door: a failed write is logged loudly and the attempt goes on. */
  attempt(event: AttemptEvent, snapshot?: Buffer): Promise<void> {
    return this.record(event, snapshot).then(() => undefined);
  }

  /** Like attempt(), resolving whether the line reached the disk (audit.required waits on this before opening). */
  record(event: AttemptEvent, snapshot?: Buffer): Promise<boolean> {
    const job = this.queue.then(() => this.write(event, snapshot));
    const recorded = job.then(
      () => {
        if (this.failure) this.options.log.warn({ failingSince: this.failure.since }, 'audit: recording again');
        this.failure = null;
        return true;
      },
      (error: unknown) => {
        this.failure ??= { since: new Date(this.now()).toISOString(), error: errorText(error) };
        this.failure.error = errorText(error);
        this.options.log.error({ err: error, attemptId: event.id }, 'audit: could not record the attempt (audit failing)');
        return false;
      },
    );
    this.queue = recorded.then(() => undefined);
    return recorded;
  }

  /** "failing" from the first line that could not be written until one is written again. */
  health(): { state: 'ok' } | { state: 'failing'; since: string; error: string } {
    return this.failure ? { state: 'failing', ...this.failure } : { state: 'ok' };
  }

  /** Status is live state, not history: the audit trail records attempts only. */
  async status(_event: StatusEvent): Promise<void> {}

  /** Resolves once every line queued so far is on the disk (or has failed and been logged). */
  flush(): Promise<void> {
    return this.queue;
  }

  /** Waits for queued lines, then closes the file. */
  async close(): Promise<void> {
    this.closed = true;
    await this.queue;
    await this.current?.handle.close();
    this.current = null;
  }

  applyRetention(): Promise<RetentionResult> {
    const openFile = this.current ? dayFileName(this.current.day) : null;
    return enforceRetention(this.dir, this.options.retention, {
      today: utcDay(this.now()),
      keep: openFile,
      log: this.options.log,
    });
  }

  private async write(event: AttemptEvent, snapshot?: Buffer): Promise<void> {
    if (this.closed) throw new Error('audit log is closed');
    const day = utcDay(event.ts);
    const handle = await this.handleFor(day);
    const { size } = await handle.stat();
    try {
      await writeFully(handle, Buffer.from(`${JSON.stringify(event)}\n`));
      await handle.datasync();
    } catch (error) {
      // Part of the line may be on disk (a full disk takes what fits in the last block). Cut it off again, so
      // no fragment is left; and drop the handle, so that if the cut failed too the next record reopens the
      // file, sees the last byte is not a newline and starts on a fresh line: a record never fuses with another.
      await handle.truncate(size).catch(() => undefined);
      this.current = null;
      await handle.close().catch(() => undefined);
      throw error;
    }
    if (snapshot && this.options.snapshots) await this.writeSnapshot(day, event.id, snapshot);
    // Retention runs once per day, when the first line of a new day arrives.
    const today = utcDay(this.now());
    if (this.lastRetentionDay !== today) {
      this.lastRetentionDay = today;
      await this.applyRetention();
    }
  }

  private async handleFor(day: string): Promise<FileHandle> {
    if (this.current?.day === day) return this.current.handle;
    await this.current?.handle.close();
    this.current = null;
    await mkdir(this.dir, { recursive: true });
    const path = join(this.dir, dayFileName(day));
    const handle = await open(path, 'a+');
    const { size } = await handle.stat();
    if (size === 0) {
      await syncDirectory(this.dir);
    } else {
      // A power cut can leave a half-written last line; start ours on a fresh line so it stays readable.
      const last = Buffer.alloc(1);
      await handle.read(last, 0, 1, size - 1);
      if (last[0] !== 0x0a) await handle.write('\n');
    }
    this.current = { day, handle };
    return handle;
  }

  private async writeSnapshot(day: string, attemptId: string, jpeg: Buffer): Promise<void> {
    const folder = join(this.dir, snapshotDirName(day));
    await mkdir(folder, { recursive: true });
    const file = await open(join(folder, snapshotFileName(attemptId)), 'w');
    try {
      await file.write(jpeg);
      await file.datasync();
    } finally {
      await file.close();
    }
  }
}

/** write() may write less than asked (a full disk, a signal): keep writing the rest, or fail loudly. */
async function writeFully(handle: FileHandle, bytes: Buffer): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset);
    if (bytesWritten <= 0) throw new Error(`short write: ${offset} of ${bytes.length} bytes, then none`);
    offset += bytesWritten;
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A new file's directory entry must reach the disk too, or the whole file can vanish after a power cut. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The daemon's audit sink from settings, started (folder made, retention applied), or null when audit.enabled is off. */
export async function openAuditLog(settings: Pick<Settings, 'paths' | 'audit'>, log: Logger): Promise<AuditLog | null> {
  if (!settings.audit.enabled) return null;
  const audit = new AuditLog({
    stateDir: settings.paths.state,
    snapshots: settings.audit.snapshots,
    retention: { retentionDays: settings.audit.retentionDays, maxBytes: settings.audit.maxBytes },
    log: log.child({ component: 'audit' }),
  });
  await audit.start();
  return audit;
}
