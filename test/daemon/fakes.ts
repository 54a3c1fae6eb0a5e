import { Writable } from 'node:stream';
import type { Camera, CameraStatus, Frame } from '../../src/camera/camera.js';
import type { Clock } from '../../src/core/clock.js';
import type { AttemptEvent, EventSink, StatusEvent } from '../../src/core/events.js';
import type { LedPattern, Output } from '../../src/gpio/gpio.js';
import { createLogger, type Logger } from '../../src/log.js';
import type { GalleryInfo, LivenessStatus, Verifier, VerifyResult } from '../../src/core/types.js';

/** Lets promise chains and immediates run. */
export const flush = async (rounds = 3): Promise<void> => {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setImmediate(resolve));
};

/** Time that moves only when a test says so; timers fire in order as it passes. */
export class ManualClock implements Clock {
  private time = Date.UTC(2026, 0, 1, 12, 0, 0);
  private timers: Array<{ at: number; seq: number; fn: () => void }> = [];
  private seq = 0;

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): { cancel(): void } {
    const timer = { at: this.time + ms, seq: this.seq++, fn };
    this.timers.push(timer);
    return { cancel: () => void (this.timers = this.timers.filter((t) => t !== timer)) };
  }

  /** Due times (ms from now) of the timers still armed. */
  armed(): number[] {
    return this.timers.map((t) => t.at - this.time);
  }

  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.time = due.at;
      due.fn();
      await flush();
    }
    this.time = end;
    await flush();
  }
}

/** A camera whose grab() does whatever the test sets in `grabImpl`. */
export class FakeCamera implements Camera {
  grabs = 0;
  lastSignal: AbortSignal | undefined;
  grabImpl: (signal?: AbortSignal) => Promise<Frame> = async () => ({
    data: Buffer.from('frame'), capturedAt: 0, source: 'fake',
  });
  async start(): Promise<void> {}
  async grab(signal?: AbortSignal): Promise<Frame> {
    this.grabs += 1;
    this.lastSignal = signal;
    return this.grabImpl(signal);
  }
  status(): CameraStatus {
    return { driver: 'fake', healthy: true, fps: 0, lastFrameAgeMs: null, restarts: 0 };
  }
  /** A burst of `burstFrames` grabs (the door asks for one when the verifier's liveness wants frames). */
  async burst(request: { count: number }, signal?: AbortSignal): Promise<Frame[]> {
    this.bursts += 1;
    const frames: Frame[] = [];
    for (let i = 0; i < request.count; i++) frames.push(await this.grab(signal));
    return frames;
  }
  bursts = 0;
  async stop(): Promise<void> {}
}

export function result(decision: VerifyResult['decision'], identity: string | null = null, reason?: string): VerifyResult {
  return {
    decision, identity, fraction: decision === 'granted' ? 0.9 : 0.1, meanScore: 0.5, perIdentity: [],
    thresholds: { detection: 0.5, verification: 0.5 }, face: null, reason,
    timings: { decode: 1, detect: 2, embed: 3, compare: 4, total: 10 }, backend: 'fake', liveness: 'not_checked',
  };
}

export class FakeVerifier implements Verifier {
  calls = 0;
  lastSignal: AbortSignal | undefined;
  verifyImpl: (signal?: AbortSignal) => Promise<VerifyResult> = async () => result('granted', 'alice');
  /** What liveness() reports; a burst of more than one frame makes the door call camera.burst(). */
  livenessStatus: LivenessStatus = { mode: 'off', burstFrames: 1, burstDurationMs: 0 };
  lastBurst: Buffer[] = [];
  async verify(_image: Buffer, options?: { signal?: AbortSignal; burst?: Buffer[] }): Promise<VerifyResult> {
    this.calls += 1;
    this.lastSignal = options?.signal;
    this.lastBurst = options?.burst ?? [];
    return this.verifyImpl(options?.signal);
  }
  liveness(): LivenessStatus {
    return this.livenessStatus;
  }
  async reload(): Promise<GalleryInfo> {
    return { identities: 1, images: 3, model: 'fake' };
  }
  info(): GalleryInfo & { backend: string; healthy: boolean } {
    return { identities: 1, images: 3, model: 'fake', backend: 'fake', healthy: true };
  }
  async close(): Promise<void> {}
}

/** An output that remembers every write, and which timers were armed when it was switched on. */
export class FakeOutput implements Output {
  writes: boolean[] = [];
  patterns: LedPattern[] = [];
  armedWhenOn: number[][] = [];
  private on = false;
  constructor(readonly name: string, private readonly clock?: ManualClock) {}
  set(on: boolean): void {
    this.on = on;
    this.writes.push(on);
    if (on && this.clock) this.armedWhenOn.push(this.clock.armed());
  }
  isOn(): boolean {
    return this.on;
  }
  show(pattern: LedPattern): void {
    this.patterns.push(pattern);
    this.on = pattern !== 'off';
  }
  lastPattern(): LedPattern | undefined {
    return this.patterns[this.patterns.length - 1];
  }
  async release(): Promise<void> {
    this.set(false);
  }
}

export class RecordingSink implements EventSink {
  attempts: AttemptEvent[] = [];
  statuses: StatusEvent[] = [];
  async attempt(event: AttemptEvent): Promise<void> {
    this.attempts.push(event);
  }
  async status(event: StatusEvent): Promise<void> {
    this.statuses.push(event);
  }
  modes(): string[] {
    return this.statuses.map((s) => s.mode);
  }
}

/** A real pino logger whose JSON lines the test can read back. */
export function captureLog(): { log: Logger; lines: () => Array<Record<string, unknown>>; text: () => string } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  const log = createLogger({ level: 'debug', destination });
  const text = () => chunks.join('');
  const lines = () => text().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  return { log, lines, text };
}
