import { join } from 'node:path';
import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import type { Settings } from '../config/index.js';
import type { LedPattern, Output } from '../gpio/gpio.js';
import { resolvePins } from '../gpio/pins.js';
import type { Logger } from '../log.js';
import { RelayDeadman, type SysfsRelayTarget } from './watchdog.js';

/** Exit code after a crash (sysexits EX_SOFTWARE): non-zero, so Restart=on-failure brings the daemon back. */
export const EXIT_FATAL = 70;
/** Exit code when a graceful stop hung and the hard-exit timer ended it. */
export const EXIT_STOP_HUNG = 1;
/** Graceful stop gets this long before the hard exit; below TimeoutStopSec=15 so systemd's SIGKILL never comes first. */
export const HARD_EXIT_MS = 10_000;

type Signal = 'SIGTERM' | 'SIGINT';

/** The process-wide hooks the failsafe uses; tests pass an EventEmitter with an exit() that records. */
export interface ProcessHooks {
  on(event: string, listener: (...args: any[]) => void): unknown;
  off(event: string, listener: (...args: any[]) => void): unknown;
  listenerCount(event: string): number;
  exit(code: number): void;
}

export interface FailsafeOptions {
  /** Anything that de-energises the relay synchronously (the guarded relay, normally). */
  relay: Pick<Output, 'set'> & Partial<Pick<Output, 'isOn'>>;
  log: Logger;
  hardExitMs?: number;
  proc?: ProcessHooks;
}

/**
 * The process-level fail-secure layer. Whatever ends the process, the relay is de-energised first, synchronously
 * (Output.set is synchronous: onoff's writeSync), because a crash handler has no event loop left to wait on:
 *  - SIGTERM/SIGINT: relay off at once; the daemon's own handler stops gracefully; if that hangs, a hard-exit
 *    timer turns the relay off again and exits, before systemd's TimeoutStopSec SIGKILL.
 *  - uncaughtException/unhandledRejection: relay off, log fatal, exit non-zero so systemd restarts us.
 *  - process exit by any other path: relay off.
 */
export class Failsafe {
  private readonly proc: ProcessHooks;
  private readonly hardExitMs: number;
  private hardExitTimer: NodeJS.Timeout | null = null;
  private signalled = false;
  private readonly listeners: Array<[string, (...args: any[]) => void]> = [];

  constructor(private readonly options: FailsafeOptions) {
    this.proc = options.proc ?? process;
    this.hardExitMs = options.hardExitMs ?? HARD_EXIT_MS;
  }

  install(): this {
    this.relayOff('failsafe installed');
    this.listen('SIGTERM', () => this.onSignal('SIGTERM'));
    this.listen('SIGINT', () => this.onSignal('SIGINT'));
    this.listen('uncaughtException', (error: unknown, origin: string) => this.fatal(error, origin ?? 'uncaughtException'));
    this.listen('unhandledRejection', (reason: unknown) => this.fatal(reason, 'unhandledRejection'));
    // After a clean stop the pins are already released (and off); writing again would only log noise.
    this.listen('exit', () => {
      if (this.options.relay.isOn?.() !== false) this.relayOff('process exit');
    });
    return this;
  }

  uninstall(): void {
    for (const [event, listener] of this.listeners) this.proc.off(event, listener);
    this.listeners.length = 0;
    if (this.hardExitTimer) clearTimeout(this.hardExitTimer);
    this.hardExitTimer = null;
  }

  /** Synchronous and never throws: callable from any handler. */
  relayOff(why: string): boolean {
    try {
      this.options.relay.set(false);
      return true;
    } catch (error) {
      try {
        this.options.log.fatal({ err: error, why }, 'failsafe: could not de-energise the relay');
      } catch { /* the logger itself is broken; nothing more to do here */ }
      return false;
    }
  }

  /** Relay off, log, exit non-zero. Used for crashes and by the watchdog path when the daemon cannot go on. */
  fatal(error: unknown, origin: string): void {
    this.relayOff(origin);
    try {
      this.options.log.fatal({ err: error, origin }, `fatal ${origin}: relay off, exiting ${EXIT_FATAL} for systemd to restart`);
    } catch { /* keep going: exiting matters more than the log line */ }
    this.proc.exit(EXIT_FATAL);
  }

  private onSignal(signal: Signal): void {
    this.relayOff(signal);
    if (this.signalled) {
      this.options.log.warn({ signal }, 'second stop signal: exiting now');
      this.proc.exit(EXIT_STOP_HUNG);
      return;
    }
    this.signalled = true;
    // Our listener suppresses Node's default exit. With no graceful handler besides ours, exit like the default would.
    if (this.proc.listenerCount(signal) <= 1) {
      this.options.log.info({ signal }, 'stop signal with no graceful handler: relay off, exiting');
      this.proc.exit(0);
      return;
    }
    this.hardExitTimer = setTimeout(() => {
      this.relayOff('hard exit');
      this.options.log.fatal({ signal, afterMs: this.hardExitMs }, 'graceful stop hung: relay off, hard exit');
      this.proc.exit(EXIT_STOP_HUNG);
    }, this.hardExitMs);
    // It must not keep a finished process alive, only end a hung one.
    this.hardExitTimer.unref();
  }

  private listen(event: string, listener: (...args: any[]) => void): void {
    this.proc.on(event, listener);
    this.listeners.push([event, listener]);
  }
}

export interface GuardOptions {
  /** door.maxUnlockMs: no pulse, whoever asked for it, lasts longer. */
  maxOnMs: number;
  log: Logger;
  clock?: Clock;
  /** Off-thread enforcement of the cap for when the event loop is stuck; see RelayDeadman. */
  deadman?: RelayDeadman | null;
}

/**
 * The relay as the door sees it, with the hard cap built in: every set(true) arms an off-timer first (and the
 * off-thread deadman, which still fires while the event loop is blocked), every set(false) disarms them
 * only after the relay write succeeded.
 */
export class GuardedRelay implements Output {
  readonly name: string;
  private timer: { cancel(): void } | null = null;
  private readonly clock: Clock;
  private forcedAtArm = 0;

  constructor(private readonly relay: Output, private readonly options: GuardOptions) {
    this.name = relay.name;
    this.clock = options.clock ?? systemClock;
  }

  set(on: boolean): void {
    if (!on) {
      this.timer?.cancel();
      this.timer = null;
      this.relay.set(false);
      this.options.deadman?.disarm();
      return;
    }
    this.timer?.cancel();
    this.timer = this.clock.setTimeout(() => {
      this.options.log.error({ maxOnMs: this.options.maxOnMs }, 'relay hit its hard cap (door.maxUnlockMs): forced off');
      this.set(false);
    }, this.options.maxOnMs);
    this.forcedAtArm = this.options.deadman?.forcedCount() ?? 0;
    this.options.deadman?.arm(this.options.maxOnMs);
    try {
      this.relay.set(true);
    } catch (error) {
      this.set(false);
      throw error;
    }
  }

  /** False once the deadman forced the relay off, even if the adapter has not heard about it yet. */
  isOn(): boolean {
    if (!this.relay.isOn()) return false;
    const forced = (this.options.deadman?.forcedCount() ?? 0) > this.forcedAtArm;
    if (forced) {
      this.options.log.error('relay was forced off by the deadman (event loop blocked past door.maxUnlockMs)');
      this.set(false);
      return false;
    }
    return true;
  }

  /** A relay has no blink patterns; "off" is honoured, anything else would be an accidental unlock. */
  show(pattern: LedPattern): void {
    if (pattern === 'off') this.set(false);
    else this.options.log.warn({ pattern }, 'relay ignores LED patterns');
  }

  async release(): Promise<void> {
    this.set(false);
    await this.relay.release();
  }
}

/**
 * The door relay with its hard cap (door.maxUnlockMs) and, on real pins, the off-thread deadman that can write
 * the OFF level to sysfs itself. The daemon calls this right after the GPIO is opened.
 */
export function guardDoorRelay(
  relay: Output,
  settings: Pick<Settings, 'gpio' | 'door'>,
  log: Logger,
): { relay: GuardedRelay; close(): Promise<void> } {
  let target: SysfsRelayTarget | null = null;
  if (settings.gpio.driver === 'onoff' && settings.gpio.relay.pin !== null) {
    const { numbers } = resolvePins(settings.gpio.sysfsRoot, { relay: settings.gpio.relay.pin });
    if (numbers.relay !== null) {
      target = { valuePath: join(settings.gpio.sysfsRoot, `gpio${numbers.relay}`, 'value'), activeLow: settings.gpio.relay.activeLow };
    }
  }
  const deadman = new RelayDeadman(target);
  const guarded = new GuardedRelay(relay, { maxOnMs: settings.door.maxUnlockMs, log: log.child({ component: 'relay-guard' }), deadman });
  return { relay: guarded, close: () => deadman.close() };
}
