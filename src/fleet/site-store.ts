import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { EnrolledPerson } from '../gallery/store.js';
import type { Logger } from '../log.js';
import { allowsDoor, decodeEntry, encodeEntry, type SiteEntry } from './entry.js';

/**
 * This door's copy of the site gallery: every entry it accepted (people and revocations), by person id, with
 * the version and a hash of the envelope it came in. Kept on disk (one JSON file, mode 0600, replaced
 * atomically) so a door that starts without a broker still has its last gallery, and so an older version
 * replayed after a restart is still refused. Revocations are kept for the same reason.
 */
interface Stored {
  ver: number;
  /** sha256 of the envelope: the same version arriving again (retained, at every reconnect) is not news. */
  envelope: string;
  entry: SiteEntry;
}

export class SiteStore {
  private readonly entries = new Map<string, Stored>();
  private dirty = false;

  private constructor(private readonly file: string, private readonly scope: { deviceId: string; space: string }) {}

  /** Loads the file; a damaged file is set aside (logged) rather than trusted or fatal: the broker refills it. */
  static open(file: string, scope: { deviceId: string; space: string }, log?: Logger): SiteStore {
    const store = new SiteStore(file, scope);
    let text: string | null = null;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (text !== null) {
      try {
        const parsed = JSON.parse(text) as { entries: Record<string, { ver: number; envelope: string; entry: unknown }> };
        for (const [pid, s] of Object.entries(parsed.entries)) {
          store.entries.set(pid, { ver: s.ver, envelope: s.envelope, entry: decodeEntry(Buffer.from(JSON.stringify(s.entry))) });
        }
      } catch (error) {
        const aside = `${file}.damaged-${Date.now()}`;
        renameSync(file, aside);
        store.entries.clear();
        log?.error({ err: error, file, movedTo: aside }, 'fleet: site gallery copy is damaged; starting empty until the broker resends it');
      }
    }
    return store;
  }

  static envelopeHash(payload: Buffer): string {
    return createHash('sha256').update(payload).digest('hex');
  }

  get(pid: string): Readonly<Stored> | undefined {
    return this.entries.get(pid);
  }

  /** In memory at once; on disk at the next flush() (the sync flushes once per burst of changes). */
  put(pid: string, ver: number, envelopeHash: string, entry: SiteEntry): void {
    this.entries.set(pid, { ver, envelope: envelopeHash, entry });
    this.dirty = true;
  }

  /**
   * Writes the file when something changed. Once per burst, not per entry: a door joining a site of 1,000
   * people took 87 s writing the whole file after each entry, against well under a second written once. An
   * entry lost to a crash before the flush comes back from the broker (it is retained).
   */
  flush(): void {
    if (!this.dirty) return;
    this.save();
    this.dirty = false;
  }

  list(): Array<{ pid: string; ver: number; entry: SiteEntry }> {
    return [...this.entries].map(([pid, s]) => ({ pid, ver: s.ver, entry: s.entry }));
  }

  /** The newest version this door holds (0 = none): `fleet status` compares it with the site's. */
  version(): number {
    let max = 0;
    for (const s of this.entries.values()) max = Math.max(max, s.ver);
    return max;
  }

  /** Order-independent digest of (person id, version) pairs; equal digests = the same gallery. */
  digest(): string {
    return siteDigest([...this.entries].map(([pid, s]) => ({ pid, ver: s.ver })));
  }

  /** The people this door may let in, in its own embedding space; every name the site knows is decided here. */
  snapshot(): { people: EnrolledPerson[]; decides: ReadonlySet<string> } {
    const people: EnrolledPerson[] = [];
    const decides = new Set<string>();
    for (const { entry } of this.entries.values()) {
      decides.add(entry.name);
      if (entry.kind === 'person' && entry.space === this.scope.space && allowsDoor(entry.doors, this.scope.deviceId)) {
        people.push({ name: entry.name, embeddings: entry.embeddings, ...(entry.doors === 'all' ? {} : { doors: entry.doors }) });
      }
    }
    return { people, decides };
  }

  private save(): void {
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    const body: Record<string, unknown> = {};
    for (const [pid, s] of this.entries) body[pid] = { ver: s.ver, envelope: s.envelope, entry: JSON.parse(encodeEntry(s.entry).toString()) };
    const temp = `${this.file}.${randomBytes(4).toString('hex')}.tmp`;
    const fd = openSync(temp, 'w', 0o600);
    try {
      writeSync(fd, JSON.stringify({ format: 1, entries: body }));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, this.file);
  }
}

export function siteDigest(items: Array<{ pid: string; ver: number }>): string {
  const lines = items.map((i) => `${i.pid}:${i.ver}`).sort().join('\n');
  return createHash('sha256').update(lines).digest('hex').slice(0, 16);
}
