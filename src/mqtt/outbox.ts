import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '../log.js';

/**
 * A bounded first-in-first-out queue of messages mirrored to a JSONL file, so attempts that happen while the
 * broker is unreachable survive a restart and go out in order afterwards. Only the head is ever removed, and
 * only after the broker acknowledged it; a crash between the ack and the removal re-sends that one message
 * (at-least-once: consumers dedupe by attempt id).
 *
 * File format, one JSON object per line: `{"dropped":n}` (first line: how many were dropped for lack of room),
 * `{"topic","payload"}` (a queued message), `{"ack":1}` (the current head was delivered). Acks are appended
 * rather than rewriting the file for each delivered message, which for a full outbox would rewrite hundreds of
 * kilobytes per message on an SD card; the file is compacted when it empties or collects many acks.
 */
export interface OutboxEntry {
  topic: string;
  /** UTF-8 JSON text of the payload. */
  payload: string;
}

/** Acks appended before the file is rewritten without them. */
const COMPACT_AFTER_ACKS = 200;

export class Outbox {
  private entries: OutboxEntry[] = [];
  /** Entries dropped (oldest first) because the outbox was full; survives restarts in the file's header line. */
  private droppedCount = 0;
  private acksOnDisk = 0;

  constructor(
    private readonly file: string,
    private readonly max: number,
    private readonly log: Logger,
  ) {
    mkdirSync(dirname(file), { recursive: true });
    this.load();
  }

  get size(): number {
    return this.entries.length;
  }

  get dropped(): number {
    return this.droppedCount;
  }

  peek(): OutboxEntry | undefined {
    return this.entries[0];
  }

  push(entry: OutboxEntry): void {
    this.entries.push(entry);
    if (this.entries.length > this.max) {
      const overflow = this.entries.length - this.max;
      this.entries.splice(0, overflow);
      this.droppedCount += overflow;
      this.log.warn({ dropped: this.droppedCount, max: this.max }, 'mqtt outbox full: dropped the oldest attempt event');
      this.rewrite();
    } else {
      this.persist(() => appendFileSync(this.file, `${JSON.stringify(entry)}\n`));
    }
  }

  /** Removes the head after the broker acknowledged it. */
  shift(): void {
    this.entries.shift();
    if (this.entries.length === 0 || this.acksOnDisk >= COMPACT_AFTER_ACKS) {
      this.rewrite();
    } else {
      this.persist(() => appendFileSync(this.file, '{"ack":1}\n'));
      this.acksOnDisk += 1;
    }
  }

  /**
   * The queue in memory is the truth; the file is its copy for restarts. A failed write (disk full, read-only
   * SD card) must not lose the event or block delivery, so it is logged and the next rewrite tries again.
   */
  private persist(write: () => void): void {
    try {
      write();
    } catch (error) {
      this.log.error({ err: error, file: this.file, queued: this.entries.length }, 'mqtt outbox: cannot write to disk; queued in memory only');
    }
  }

  private rewrite(): void {
    const header = JSON.stringify({ dropped: this.droppedCount });
    const body = this.entries.map((e) => `${JSON.stringify(e)}\n`).join('');
    const tmp = `${this.file}.tmp`;
    // Write-then-rename, so a power cut leaves either the old or the new queue, never half of one.
    this.persist(() => {
      writeFileSync(tmp, `${header}\n${body}`);
      renameSync(tmp, this.file);
      this.acksOnDisk = 0;
    });
  }

  private load(): void {
    if (!existsSync(this.file)) {
      this.rewrite();
      return;
    }
    let skipped = 0;
    for (const line of readFileSync(this.file, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        const parsed = JSON.parse(line) as Partial<OutboxEntry> & { dropped?: number; ack?: number };
        if (typeof parsed.dropped === 'number') this.droppedCount = parsed.dropped;
        else if (parsed.ack === 1) this.entries.shift();
        else if (typeof parsed.topic === 'string' && typeof parsed.payload === 'string') {
          this.entries.push({ topic: parsed.topic, payload: parsed.payload });
        } else skipped += 1;
      } catch {
        // A torn last line after a power cut: keep everything before it (a torn ack re-sends one message).
        skipped += 1;
      }
    }
    if (skipped) this.log.warn({ file: this.file, skipped }, 'mqtt outbox: skipped unreadable lines');
    if (this.entries.length > this.max) {
      this.droppedCount += this.entries.length - this.max;
      this.entries.splice(0, this.entries.length - this.max);
    }
    if (this.entries.length) this.log.info({ queued: this.entries.length }, 'mqtt outbox: attempt events waiting from before the restart');
    this.rewrite();
  }
}
