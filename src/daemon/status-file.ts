import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AttemptEvent, EventSink, StatusEvent } from '../core/events.js';

/** <paths.state>/status.json: what `facegate status` shows and how `facegate reload` finds the daemon. */
export interface DaemonStatusFile {
  pid: number;
  startedAt: string;
  updatedAt: string;
  /** Counts up on every reload (SIGHUP, `facegate reload`), so a caller sees that its reload happened. */
  reloads: number;
  status: StatusEvent;
}

export function statusFilePath(stateDir: string): string {
  return join(stateDir, 'status.json');
}

/** Reads the status file; null when there is none (daemon never ran here). */
export function readStatusFile(stateDir: string): DaemonStatusFile | null {
  try {
    return JSON.parse(readFileSync(statusFilePath(stateDir), 'utf8')) as DaemonStatusFile;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** True while a process with this pid exists (signal 0 checks without sending anything). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * An event sink that keeps status.json current. Written synchronously and atomically (temp file + rename), so a
 * reader never sees half a file and no write is ever in flight across an await; at most one write per
 * MIN_INTERVAL_MS (a busy door changes mode three times per attempt: 2,000 soak attempts would be 6,000 writes),
 * the latest status always written in the end. A failure is reported to onError and never reaches the door.
 */
export class StatusFileSink implements EventSink {
  static readonly MIN_INTERVAL_MS = 1000;
  private readonly path: string;
  private readonly startedAt = new Date().toISOString();
  private latest: StatusEvent | null = null;
  private lastWrite = 0;
  private timer: NodeJS.Timeout | null = null;
  reloads = 0;

  constructor(stateDir: string, private readonly onError: (error: unknown) => void) {
    this.path = statusFilePath(stateDir);
  }

  async attempt(_event: AttemptEvent): Promise<void> {}

  async status(event: StatusEvent): Promise<void> {
    this.latest = event;
    const wait = this.lastWrite + StatusFileSink.MIN_INTERVAL_MS - Date.now();
    if (wait <= 0) return this.flush();
    this.timer ??= setTimeout(() => this.flush(), wait);
    this.timer.unref();
  }

  /** Writes the last status again with the reload counted, at once. */
  reloaded(current: StatusEvent): void {
    this.reloads += 1;
    this.latest = current;
    this.flush();
  }

  /** Writes the latest status now (also at stop, so the file ends with the last word). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!this.latest) return;
    const file: DaemonStatusFile = { pid: process.pid, startedAt: this.startedAt, updatedAt: new Date().toISOString(), reloads: this.reloads, status: this.latest };
    this.lastWrite = Date.now();
    try {
      const temp = `${this.path}.${process.pid}.tmp`;
      writeFileSync(temp, `${JSON.stringify(file, null, 2)}\n`);
      renameSync(temp, this.path);
    } catch (error) {
      this.onError(error);
    }
  }
}
