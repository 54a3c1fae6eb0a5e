import type { AttemptEvent, DoorMode, StatusEvent, Trigger } from '../core/events.js';
import type { LedPattern, Output } from '../gpio/gpio.js';
import type { Logger } from '../log.js';
import { errorEvent, eventFromResult, iso, remoteUnlockEvent } from './attempt-event.js';
import { Lockout } from './lockout.js';
import { errorText } from '../core/errors.js';
import { captureFrames, livenessState, RED_PATTERN } from './presentation.js';
import { runStage } from './stage.js';

/**
 * The door controller: the one place that decides what happens next. It knows interfaces only (camera,
 * verifier, outputs, event sink, clock), so tests drive it with fakes and a manual clock.
 *
 *   idle -> capturing -> verifying -> granted | denied | no_face | spoof | error -> cooldown -> idle
 *   (with liveness on, capturing takes a burst; spoof = a photo or a screen, counted like denied: presentation.ts)
 *
 * One attempt at a time; presses during an attempt, a cooldown or a lockout are counted and refused.
 * Fail-secure: the relay is off at start, at stop and on every error path, and every pulse has its
 * off-timer armed before the relay is energised.
 */

export type { DoorLeds, DoorOptions, Phase, Refusal, TriggerOptions, TriggerOutcome } from './door-types.js';
import type { DoorOptions, Phase, Refusal, TriggerOptions, TriggerOutcome } from './door-types.js';

type Timer = { cancel(): void };

export class Door {
  private phase: Phase = 'idle';
  private lastMode: DoorMode | null = null;
  private current: AbortController | null = null;
  private running: Promise<unknown> | null = null;
  private readonly pending = new Set<Promise<void>>();
  private readonly lockout: Lockout;
  /** Unauthenticated remote denials lock out only those requests: a broker client must not lock residents out. */
  private readonly remoteLockout: Lockout;
  private relayTimer: Timer | null = null;
  private resultTimer: Timer | null = null;
  private cooldownTimer: Timer | null = null;
  private lockoutTimer: Timer | null = null;
  private lastAttempt: StatusEvent['lastAttempt'] = null;
  private today = { date: '', attempts: 0 };
  /** Presses refused since start (busy, cooldown, locked out): a storm shows up here, not in attempts. */
  ignoredPresses = 0;

  constructor(private readonly o: DoorOptions) {
    this.lockout = new Lockout(o.settings.security, o.clock, o.lockoutStore ?? null, (error) =>
      o.log.error({ err: error }, 'lockout state could not be read or written: it will not survive a restart'));
    const until = this.lockout.lockedOutUntil();
    if (until !== null) o.log.warn({ until: iso(until) }, 'still locked out from before the restart');
    this.remoteLockout = new Lockout(o.settings.security, o.clock); // in memory: never the residents' budget
  }

  /**
   * An operator lifts a lockout (`facegate lockout clear`, a signed command): the door takes presses again at
   * once and the denial count starts from zero. Returns whether a lockout was in force.
   */
  clearLockout(by: string): boolean {
    const was = this.lockout.clear();
    this.remoteLockout.clear();
    this.lockoutTimer?.cancel();
    this.o.log.warn({ by, wasLockedOut: was }, 'lockout cleared');
    this.publishStatus(true);
    return was;
  }

  /** Reads the persisted lockout again (`facegate lockout clear` wrote it from outside). */
  reloadLockout(): void {
    this.lockout.reload();
    this.publishStatus(true);
  }

  start(): void {
    this.relayOff('start');
    for (const led of this.ledList()) led.show('off');
    this.phase = 'idle';
    this.publishStatus(true);
  }

  getPhase(): Phase {
    return this.phase;
  }

  mode(): DoorMode {
    if (this.lockout.isLockedOut()) return 'locked_out';
    if (this.phase === 'capturing' || this.phase === 'verifying') return 'busy';
    if (this.phase === 'cooldown') return 'cooldown';
    return 'idle';
  }

  /** A press from any source: the attempt's event, or why none was made (unauthenticated: see remoteLockout). */
  async trigger(trigger: Trigger, commandId?: string, options: TriggerOptions = {}): Promise<TriggerOutcome> {
    const lockout = options.unauthenticated ? this.remoteLockout : this.lockout;
    const refusal = this.refusal() ?? (lockout.isLockedOut() ? 'locked_out' : null);
    if (refusal) {
      this.ignoredPresses += 1;
      this.o.log.debug({ trigger, refusal, ignoredPresses: this.ignoredPresses }, 'press ignored');
      const until = this.lockout.lockedOutUntil() ?? lockout.lockedOutUntil();
      return { accepted: false, reason: refusal, lockedOutUntil: until === null ? null : iso(until) };
    }
    const attempt = this.attempt(trigger, commandId, lockout);
    this.running = attempt;
    return { accepted: true, event: await attempt };
  }

  /** Remote unlock (authenticated): a capped pulse and an attempt event (trigger remote); ms 0 = pulse failed. */
  unlock(commandId: string): { ms: number; event: AttemptEvent } {
    if (this.phase === 'stopped') throw new Error('the door is stopped');
    const ms = this.pulseRelay(this.o.settings.door.unlockMs);
    const event = remoteUnlockEvent(this.o.newId(), this.o.clock.now(), commandId, ms > 0);
    this.record(event);
    this.publishStatus(true);
    this.o.log.warn({ decision: event.decision, trigger: 'remote', commandId, ms }, `remote unlock: attempt ${event.decision}`);
    this.track(this.o.sink.attempt(event));
    return { ms, event };
  }

  status(): StatusEvent {
    const camera = this.o.camera.status();
    const info = this.o.verifier.info();
    const until = this.lockout.lockedOutUntil();
    return {
      ts: iso(this.o.clock.now()),
      mode: this.mode(),
      relay: this.o.relay.isOn(),
      camera: { driver: camera.driver, healthy: camera.healthy, fps: camera.fps, lastFrameAgeMs: camera.lastFrameAgeMs },
      gallery: { identities: info.identities, images: info.images },
      model: info.model,
      backend: info.backend,
      lastAttempt: this.lastAttempt,
      attemptsToday: this.today.date === iso(this.o.clock.now()).slice(0, 10) ? this.today.attempts : 0,
      lockedOutUntil: until === null ? null : iso(until),
      ...this.o.health?.(),
      liveness: livenessState(this.o.verifier),
    };
  }

  /** Aborts the current attempt, de-energises everything and waits for events to reach the sinks. */
  async stop(): Promise<void> {
    if (this.phase === 'stopped') return;
    this.phase = 'stopped';
    this.current?.abort(new Error('stopped: the daemon is shutting down'));
    this.relayOff('stop');
    for (const timer of [this.resultTimer, this.cooldownTimer, this.lockoutTimer]) timer?.cancel();
    for (const led of this.ledList()) led.show('off');
    await this.running?.catch(() => undefined);
    this.relayOff('stop');
    await Promise.allSettled([...this.pending]);
  }

  private refusal(): Refusal | null {
    if (this.phase === 'stopped') return 'stopped';
    if (this.lockout.isLockedOut()) return 'locked_out';
    if (this.phase === 'capturing' || this.phase === 'verifying') return 'busy';
    if (this.phase === 'cooldown') return 'cooldown';
    return null;
  }

  private async attempt(trigger: Trigger, commandId: string | undefined, lockout: Lockout): Promise<AttemptEvent> {
    const { clock, settings } = this.o;
    const id = this.o.newId();
    const startedAt = clock.now();
    const log = this.o.log.child({ attempt: id });
    const controller = new AbortController();
    this.current = controller;
    const ignoredBefore = this.ignoredPresses;
    this.setPhase('capturing');
    this.resultTimer?.cancel();
    this.o.leds.green?.show('off');
    this.o.leds.red?.show('off');
    this.o.leds.busy?.show('on');
    log.info({ trigger, commandId }, 'attempt started');

    let event: AttemptEvent;
    let snapshot: Buffer | undefined;
    let captureMs: number | undefined;
    try {
      const { frame, burst } = await runStage(clock, 'capture', settings.door.captureTimeoutMs, controller.signal, (signal) =>
        captureFrames(this.o.camera, this.o.verifier, signal),
      );
      captureMs = clock.now() - startedAt;
      log.debug({ source: frame.source, bytes: frame.data.length, frames: 1 + burst.length, captureMs }, 'frame captured');
      this.setPhase('verifying');
      const result = await runStage(clock, 'verify', settings.door.verifyTimeoutMs, controller.signal, (signal) =>
        this.o.verifier.verify(frame.data, { signal, wantFaceJpeg: this.o.wantSnapshot === true, burst: burst.map((f) => f.data) }),
      );
      if (controller.signal.aborted) throw controller.signal.reason;
      event = eventFromResult({ id, startedAt, trigger, commandId, captureMs, endedAt: clock.now() }, result);
      snapshot = result.faceJpeg;
    } catch (error) {
      this.relayOff('attempt error');
      const reason = errorText(error);
      event = errorEvent({ id, startedAt, trigger, commandId, captureMs, endedAt: clock.now() }, reason);
    } finally {
      this.current = null;
      this.o.leds.busy?.show('off');
    }

    if (this.o.recordFirst && !(await this.o.recordFirst(event, snapshot)) && event.decision === 'granted') {
      event = { ...event, decision: 'error', reason: 'not opening: the attempt could not be recorded (audit failing, audit.required is on)' };
    }
    this.conclude(event, log, lockout);
    log.debug(
      { decision: event.decision, identity: event.identity, reason: event.reason, fraction: event.fraction,
        timings: event.timings, ignoredPresses: this.ignoredPresses - ignoredBefore },
      `attempt ${event.decision}`,
    );
    this.track(this.o.sink.attempt(event, snapshot));
    return event;
  }

  /** Outputs, lockout bookkeeping and the next phase for a finished attempt. */
  private conclude(event: AttemptEvent, log: Logger, lockout: Lockout): void {
    const { settings, clock } = this.o;
    this.record(event);
    if (this.phase === 'stopped') return;

    if (event.decision === 'granted') {
      this.lockout.recordGranted();
      this.remoteLockout.recordGranted();
      this.lockoutTimer?.cancel();
      this.pulseRelay(settings.door.unlockMs);
      this.showResult(this.o.leds.green, 'on');
    } else {
      // A fault switches the relay off; a decision never cuts a running (capped) pulse short: 3 s became 2.3 s.
      if (event.decision === 'error' || this.relayTimer === null) this.relayOff(`attempt ${event.decision}`);
      this.showResult(this.o.leds.red, RED_PATTERN[event.decision]);
      if ((event.decision === 'denied' || event.decision === 'spoof') && lockout.recordDenied()) {
        log.warn({ lockoutMs: settings.security.lockoutMs }, 'too many denied or spoofed attempts: locked out');
        this.lockoutTimer = clock.setTimeout(() => this.publishStatus(false), settings.security.lockoutMs);
      }
    }
    if (settings.door.cooldownMs === 0) {
      this.setPhase('idle');
      return;
    }
    this.setPhase('cooldown');
    this.cooldownTimer = clock.setTimeout(() => {
      if (this.phase === 'cooldown') this.setPhase('idle');
    }, settings.door.cooldownMs);
  }

  /** Bookkeeping for every attempt, remote unlocks included. */
  private record(event: AttemptEvent): void {
    this.lastAttempt = { id: event.id, ts: event.ts, decision: event.decision, identity: event.identity, meanScore: event.meanScore };
    const date = event.ts.slice(0, 10);
    this.today = { date, attempts: (this.today.date === date ? this.today.attempts : 0) + 1 };
  }

  private pulseRelay(requestedMs: number): number {
    const ms = Math.min(requestedMs, this.o.settings.door.maxUnlockMs);
    this.relayTimer?.cancel();
    // Armed before the relay goes on: whatever happens next, the off switch is already scheduled.
    this.relayTimer = this.o.clock.setTimeout(() => this.relayOff('pulse over'), ms);
    try {
      this.o.relay.set(true);
    } catch (error) {
      this.relayOff('relay write failed');
      this.o.log.error({ err: error }, 'could not energise the relay');
      return 0;
    }
    this.o.log.info({ ms }, 'relay pulse');
    this.publishStatus(true);
    return ms;
  }

  private relayOff(why: string): void {
    this.relayTimer?.cancel();
    this.relayTimer = null;
    const wasOn = this.o.relay.isOn();
    try {
      this.o.relay.set(false);
    } catch (error) {
      this.o.log.error({ err: error, why }, 'could not de-energise the relay');
    }
    if (wasOn) {
      this.o.log.info({ why }, 'relay off');
      if (this.phase !== 'stopped') this.publishStatus(true);
    }
  }

  private showResult(led: Output | null, pattern: LedPattern): void {
    this.resultTimer?.cancel();
    led?.show(pattern);
    this.resultTimer = this.o.clock.setTimeout(() => led?.show('off'), this.o.settings.door.resultMs);
  }

  private setPhase(phase: Phase): void {
    if (this.phase === 'stopped') return;
    this.phase = phase;
    this.publishStatus(false);
  }

  /** Publishes a StatusEvent when the mode changed (or always, when forced: relay changes). */
  private publishStatus(force: boolean): void {
    const mode = this.mode();
    if (!force && mode === this.lastMode) return;
    this.lastMode = mode;
    let status: StatusEvent;
    try {
      status = this.status();
    } catch (error) {
      this.o.log.error({ err: error }, 'could not build the status');
      return;
    }
    this.track(this.o.sink.status(status));
  }

  private track(promise: Promise<void>): void {
    const tracked = promise.catch((error: unknown) => this.o.log.error({ err: error }, 'event sink failed'));
    this.pending.add(tracked);
    void tracked.finally(() => this.pending.delete(tracked));
  }

  private ledList(): Output[] {
    return [this.o.leds.green, this.o.leds.red, this.o.leds.busy].filter((led): led is Output => led !== null);
  }
}
