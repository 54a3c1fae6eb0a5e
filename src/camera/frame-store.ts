import type { BurstRequest } from './camera.js';

const FPS_WINDOW_MS = 3_000;

/**
 * The newest frame of a stream and the recent arrival times, shared by every streaming driver.
 * Older frames are dropped at once: a door wants the picture of now, not a queue.
 */
type StoredFrame = { data: Buffer; capturedAt: number; source: string };

export class FrameStore {
  private latest: StoredFrame | null = null;
  private arrivals: number[] = [];
  private waiters = new Set<{ resolve: () => void }>();
  private closedWith: Error | null = null;

  /** @param maxAgeMs a frame older than this is stale; also how long fresh() waits for a new one. */
  constructor(private readonly maxAgeMs: number) {}

  begin(): void {
    this.closedWith = null;
  }

  put(data: Buffer, source: string): void {
    const now = Date.now();
    this.latest = { data, capturedAt: now, source };
    this.arrivals.push(now);
    this.prune(now);
    for (const waiter of [...this.waiters]) waiter.resolve();
  }

  lastFrameAgeMs(): number | null {
    return this.latest ? Date.now() - this.latest.capturedAt : null;
  }

  /**
   * Frames per second over the last few seconds, from the intervals between the frames in the window. A wait
   * longer than one interval since the newest frame counts, so a stall pulls the figure down at once and it
   * reaches 0 when the window holds under two frames. Start-up time before the first frame does not dilute it.
   */
  fps(): number {
    const now = Date.now();
    this.prune(now);
    const count = this.arrivals.length;
    if (count < 2) return 0;
    const span = this.arrivals[count - 1]! - this.arrivals[0]!;
    // Up to one interval of waiting for the next frame is normal; longer than that is a stall and counts.
    const elapsed = Math.max(span, now - this.arrivals[0]! - span / (count - 1));
    return elapsed > 0 ? Math.round(((count - 1) * 1000 * 10) / elapsed) / 10 : 0;
  }

  /** The newest frame if fresh; otherwise waits up to maxAgeMs for the next one, then rejects with makeError. */
  fresh(signal: AbortSignal | undefined, makeError: (waitedMs: number) => Error): Promise<{ data: Buffer; capturedAt: number; source: string }> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const latest = this.latest;
    if (latest && Date.now() - latest.capturedAt <= this.maxAgeMs) return Promise.resolve(latest);
    if (signal?.aborted) return Promise.reject(abortError(signal));
    return this.nextFrame(signal, this.maxAgeMs, (waitedMs) => {
      throw makeError(waitedMs);
    });
  }

  /**
   * The newest fresh frame and the next ones as they arrive, up to request.count frames or request.durationMs
   * after the first. A stream that stalls mid-burst ends it early: the frames so far are returned.
   */
  async burst(request: BurstRequest, signal: AbortSignal | undefined, makeError: (waitedMs: number) => Error): Promise<StoredFrame[]> {
    const frames = [await this.fresh(signal, makeError)];
    const deadline = Date.now() + request.durationMs;
    while (frames.length < request.count) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      const next = await this.after(frames[frames.length - 1]!, signal, Math.min(left, this.maxAgeMs));
      if (!next) break;
      frames.push(next);
    }
    return frames;
  }

  /** The first frame stored after `previous`, or null when none comes within timeoutMs. */
  private after(previous: StoredFrame, signal: AbortSignal | undefined, timeoutMs: number): Promise<StoredFrame | null> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    if (this.latest && this.latest !== previous) return Promise.resolve(this.latest);
    if (signal?.aborted) return Promise.reject(abortError(signal));
    return this.nextFrame(signal, timeoutMs, () => null);
  }

  /**
   * The next frame stored, or what `timedOut` returns (or throws) after timeoutMs without one; rejects when the
   * store closes or `signal` aborts. Every way out removes the waiter, the timer and the abort listener.
   */
  private nextFrame<T>(signal: AbortSignal | undefined, timeoutMs: number, timedOut: (waitedMs: number) => T): Promise<StoredFrame | T> {
    const waitStart = Date.now();
    return new Promise((resolve, reject) => {
      const finish = (outcome: () => void) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.waiters.delete(waiter);
        outcome();
      };
      const waiter = { resolve: () => finish(() => (this.closedWith ? reject(this.closedWith) : resolve(this.latest!))) };
      const onAbort = () => finish(() => reject(abortError(signal!)));
      const timer = setTimeout(
        () =>
          finish(() => {
            try {
              resolve(timedOut(Date.now() - waitStart));
            } catch (error) {
              reject(error);
            }
          }),
        timeoutMs,
      );
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(waiter);
    });
  }

  /** Rejects every waiting grab (camera stopping). */
  close(reason: Error): void {
    this.closedWith = reason;
    for (const waiter of [...this.waiters]) waiter.resolve();
  }

  private prune(now: number): void {
    const cutoff = now - FPS_WINDOW_MS;
    let drop = 0;
    while (drop < this.arrivals.length && this.arrivals[drop]! < cutoff) drop++;
    if (drop > 0) this.arrivals.splice(0, drop);
  }
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('grab aborted');
}
