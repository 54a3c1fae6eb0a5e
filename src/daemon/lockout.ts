import type { Clock } from '../core/clock.js';
import type { Settings } from '../config/index.js';

/**
 * Too many denied attempts in a short window lock the door for a while, so that someone holding up
 * photo after photo cannot keep trying. Only `denied` and `spoof` count (the door records both as denials):
 * `no_face` and `error` say nothing about who stood there, and counting them would let a bad camera lock the
 * owner out.
 */
/** What survives a restart: when the lockout ends, and the denials still counting towards the next one. */
export interface LockoutState {
  until: number | null;
  denials: number[];
}

/** Where the state is kept between runs (a file in the state dir); a failing store is logged, never fatal. */
export interface LockoutStore {
  load(): LockoutState | null;
  save(state: LockoutState): void;
}

export class Lockout {
  /** Times (clock ms) of denied attempts inside the window, oldest first. */
  private denials: number[] = [];
  private until: number | null = null;

  constructor(
    private readonly settings: Settings['security'],
    private readonly clock: Clock,
    private readonly store: LockoutStore | null = null,
    private readonly onStoreError: (error: unknown) => void = () => undefined,
  ) {
    this.reload();
  }

  /** Reads the persisted state again (at start, and on reload after `facegate lockout clear`). */
  reload(): void {
    if (!this.store) return;
    try {
      const state = this.store.load();
      if (!state) return;
      this.until = state.until;
      this.denials = state.denials;
    } catch (error) {
      this.onStoreError(error);
    }
  }

  /** An operator lifted the lockout (CLI, signed command): denials are forgotten too. */
  clear(): boolean {
    const was = this.isLockedOut();
    this.denials = [];
    this.until = null;
    this.persist();
    return was;
  }

  /** Records a denied attempt; returns true when this one started a lockout. */
  recordDenied(): boolean {
    if (this.settings.maxFailures === 0) return false;
    const now = this.clock.now();
    this.denials = this.denials.filter((t) => now - t < this.settings.windowMs);
    this.denials.push(now);
    if (this.denials.length >= this.settings.maxFailures && !this.isLockedOut()) {
      this.until = now + this.settings.lockoutMs;
      this.denials = [];
      this.persist();
      return true;
    }
    this.persist();
    return false;
  }

  /** The right person got in: earlier denials were probably them too (bad light, glasses). */
  recordGranted(): void {
    const had = this.denials.length > 0 || this.until !== null;
    this.denials = [];
    this.until = null;
    if (had) this.persist();
  }

  private persist(): void {
    try {
      this.store?.save({ until: this.until, denials: this.denials });
    } catch (error) {
      this.onStoreError(error);
    }
  }

  isLockedOut(): boolean {
    if (this.until === null) return false;
    if (this.clock.now() >= this.until) {
      this.until = null;
      return false;
    }
    return true;
  }

  /** Epoch ms when the lockout ends, or null when not locked out. */
  lockedOutUntil(): number | null {
    return this.isLockedOut() ? this.until : null;
  }

  /** Denials counted towards the next lockout (for logs). */
  recentDenials(): number {
    const now = this.clock.now();
    return this.denials.filter((t) => now - t < this.settings.windowMs).length;
  }
}
