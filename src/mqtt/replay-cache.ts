import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '../log.js';

export type RememberResult = 'new' | 'seen' | 'full';

/**
 * The ids of recently accepted commands, on disk, so that a command re-delivered after a reconnect, a
 * persistent-session replay or a restart is refused. Bounded: the oldest id is forgotten only once its
 * command is too old to pass the age check anyway; while every remembered id is still "fresh" the cache
 * refuses new commands instead (fail secure: forgetting a fresh id would re-open the replay window).
 */
export class ReplayCache {
  private readonly ids = new Map<string, number>();
  private linesOnDisk = 0;

  constructor(
    private readonly file: string,
    private readonly capacity: number,
    private readonly maxAgeMs: number,
    private readonly log: Logger,
  ) {
    mkdirSync(dirname(file), { recursive: true });
    this.load();
  }

  get size(): number {
    return this.ids.size;
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  /** Records the id (durably, before the command runs) unless it was seen before or the cache is full of fresh ids. */
  remember(id: string, commandTs: number, now: number): RememberResult {
    if (this.ids.has(id)) return 'seen';
    if (this.ids.size >= this.capacity) {
      const [oldestId, oldestTs] = this.ids.entries().next().value as [string, number];
      // A command is accepted while |now - ts| <= maxAge; its id must be kept at least until then.
      if (now - oldestTs <= this.maxAgeMs) return 'full';
      this.ids.delete(oldestId);
    }
    this.ids.set(id, commandTs);
    appendFileSync(this.file, `${JSON.stringify({ id, ts: commandTs })}\n`);
    this.linesOnDisk += 1;
    if (this.linesOnDisk > this.capacity * 2) this.compact();
    return 'new';
  }

  private compact(): void {
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, [...this.ids].map(([id, ts]) => `${JSON.stringify({ id, ts })}\n`).join(''));
    renameSync(tmp, this.file);
    this.linesOnDisk = this.ids.size;
  }

  private load(): void {
    if (!existsSync(this.file)) return;
    for (const line of readFileSync(this.file, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        const { id, ts } = JSON.parse(line) as { id?: unknown; ts?: unknown };
        if (typeof id === 'string' && typeof ts === 'number') {
          this.ids.delete(id);
          this.ids.set(id, ts);
        }
      } catch {
        this.log.warn({ file: this.file }, 'replay cache: skipped a torn line');
      }
    }
    // Keep the newest; ids beyond capacity are old enough to be refused by the age check.
    while (this.ids.size > this.capacity) this.ids.delete(this.ids.keys().next().value as string);
    this.compact();
  }
}
