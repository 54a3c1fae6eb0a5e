/**
 * A token bucket: `perMinute` tokens, refilled continuously, burst up to `perMinute`. Unsigned commands share
 * one bucket whoever sends them, so a flood (1,000 cmd/verify in 0.3 s filled the shared replay cache and
 * blocked a correctly signed unlock for ~30 s) is refused before it costs a replay-cache entry.
 */
export class RateLimiter {
  private tokens: number;
  private last: number;

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number,
  ) {
    this.tokens = perMinute;
    this.last = now();
  }

  /** Takes one token; false when none is left. */
  take(): boolean {
    const at = this.now();
    this.tokens = Math.min(this.perMinute, this.tokens + ((at - this.last) * this.perMinute) / 60_000);
    this.last = at;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
