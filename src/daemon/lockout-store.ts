import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { LockoutState, LockoutStore } from './lockout.js';

/**
 * The lockout on disk (<paths.state>/lockout.json), so that crashing the daemon or cutting the power does not
 * hand an attacker a fresh budget. Written synchronously and atomically (temp file + rename): it changes only
 * on a denial, a grant, a lockout or a clear, and must be on disk before the next attempt is taken.
 */
export class FileLockoutStore implements LockoutStore {
  constructor(readonly path: string) {}

  load(): LockoutState | null {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    const parsed = JSON.parse(text) as Partial<LockoutState>;
    const until = typeof parsed.until === 'number' && Number.isFinite(parsed.until) ? parsed.until : null;
    const denials = Array.isArray(parsed.denials) ? parsed.denials.filter((t): t is number => typeof t === 'number' && Number.isFinite(t)) : [];
    return { until, denials };
  }

  save(state: LockoutState): void {
    mkdirSync(dirname(this.path), { recursive: true });
    const temp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(temp, `${JSON.stringify(state)}\n`);
    renameSync(temp, this.path);
  }
}
