import type { Clock } from '../core/clock.js';
import type { Settings } from '../config/index.js';

/**
 * Too many denied attempts in a short window lock the door for a while, so that someone holding up
 * photo after photo cannot keep trying. Only `denied` counts: `no_face` and `error` say nothing about
 * who stood there, and counting them would let a bad camera lock the owner out.
 */
export class Lockout {
  /** Times (clock ms) of denied attempts inside the window, oldest first. */
  private denials: number[] = [];
  private until: number | null = null;

  constructor(
    private readonly settings: Settings['security'],
    private readonly clock: Clock,
  ) {}

  /** Records a denied attempt; returns true when this one started a lockout. */
  recordDenied(): boolean {
    if (this.settings.maxFailures === 0) return false;
    const now = this.clock.now();
    this.denials = this.denials.filter((t) => now - t < this.settings.windowMs);
    this.denials.push(now);
    if (this.denials.length >= this.settings.maxFailures && !this.isLockedOut()) {
      this.until = now + this.settings.lockoutMs;
      this.denials = [];
      return true;
    }
    return false;
  }

  /** The right person got in: earlier denials were probably them too (bad light, glasses). */
  recordGranted(): void {
    this.denials = [];
    this.until = null;
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
