import { EXIT_CODES, errorText } from '../core/errors.js';
import type { Output } from '../gpio/gpio.js';
import type { Logger } from '../log.js';

/** Exit code after a crash (sysexits EX_SOFTWARE): non-zero, so Restart=on-failure brings the daemon back. */
export const EXIT_FATAL = EXIT_CODES.software;
/** Exit code when a graceful stop hung and the hard-exit timer ended it. */
export const EXIT_STOP_HUNG = EXIT_CODES.stop_hung;
/** Graceful stop gets this long before the hard exit; below TimeoutStopSec=15 so systemd's SIGKILL never comes first. */
export const HARD_EXIT_MS = 10_000;

/**
 * Every signal whose default action ends the process and that Node lets us catch. Each one switches the relay
 * off first, then stops the daemon. SIGTERM and SIGINT are the ordinary stop requests (exit 0); any other one
 * exits 128+n like a shell reports a death by signal, so systemd's Restart=on-failure brings the door back.
 * Not here: SIGHUP (reload, the Unix habit), SIGUSR1 (the press), SIGPROF (V8's sampling profiler uses it),
 * SIGPIPE/SIGXFSZ (Node ignores them); SIGKILL, SIGSTOP and faults (SIGSEGV, SIGBUS, ...) cannot be handled in
 * JavaScript at all: for those the unit's ExecStopPost=facegate relay-off is the backstop.
 */
export const STOP_SIGNALS = [
  'SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGUSR2', 'SIGABRT', 'SIGALRM', 'SIGVTALRM', 'SIGXCPU', 'SIGPWR', 'SIGSTKFLT', 'SIGIO',
] as const satisfies readonly NodeJS.Signals[];
export type StopSignal = (typeof STOP_SIGNALS)[number];
const SIGNAL_NUMBERS: Record<StopSignal, number> = {
  SIGTERM: 15, SIGINT: 2, SIGQUIT: 3, SIGUSR2: 12, SIGABRT: 6, SIGALRM: 14, SIGVTALRM: 26, SIGXCPU: 24, SIGPWR: 30, SIGSTKFLT: 16, SIGIO: 29,
};

/** The process-wide hooks the lifecycle uses; tests pass an EventEmitter with an exit() that records. */
export interface ProcessHooks {
  on(event: string, listener: (...args: any[]) => void): unknown;
  off(event: string, listener: (...args: any[]) => void): unknown;
  listenerCount(event: string): number;
  exit(code: number): void;
}

/** Anything that de-energises the relay synchronously (the guarded relay, normally). */
export type RelaySwitch = Pick<Output, 'set'> & Partial<Pick<Output, 'isOn'>>;

export interface LifecycleOptions {
  /** The relay, once there is one; setRelay() hands it over later (the daemon opens GPIO after install()). */
  relay?: RelaySwitch;
  log: Logger;
  hardExitMs?: number;
  proc?: ProcessHooks;
}

type Step = { name: string; run: () => Promise<unknown> | unknown };

/**
 * The one owner of the process lifecycle: every process.on handler of the daemon, the hard-exit timer, the exit
 * codes and the one shutdown list live here. Whatever ends the process, the relay is de-energised first,
 * synchronously (Output.set is synchronous: onoff's writeSync), because a crash handler has no event loop left:
 *  - a stop signal (STOP_SIGNALS): relay off at once, then the shutdown list; if that hangs, the hard-exit timer
 *    turns the relay off again and exits before systemd's TimeoutStopSec SIGKILL; a second signal exits at once;
 *  - SIGHUP: reload (gallery, lockout state), never an exit; SIGUSR1: a press once the door is up, else ignored
 *    (without a listener Node would open its inspector);
 *  - uncaughtException/unhandledRejection: relay off, log fatal, exit 70 so systemd restarts us;
 *  - process exit by any other path: relay off, then the registered exit steps (terminal mode).
 */
export class Lifecycle {
  private readonly proc: ProcessHooks;
  private readonly hardExitMs: number;
  private relay: RelaySwitch | null;
  private log: Logger;
  private hardExitTimer: NodeJS.Timeout | null = null;
  private stopping: string | null = null;
  private readonly listeners: Array<[string, (...args: any[]) => void]> = [];
  private readonly steps: Step[] = [];
  private readonly exitSteps: Array<() => void> = [];
  private readonly pressHandlers = new Set<() => void>();
  private readonly reloadHandlers: Array<() => Promise<unknown> | unknown> = [];
  private resolveStop!: (reason: string) => void;
  /** Resolves with the reason (a signal name, "key q") when the process was asked to stop. */
  readonly stopRequested: Promise<string>;
  exitCode = 0;

  constructor(options: LifecycleOptions) {
    this.proc = options.proc ?? process;
    this.hardExitMs = options.hardExitMs ?? HARD_EXIT_MS;
    this.relay = options.relay ?? null;
    this.log = options.log;
    this.stopRequested = new Promise((resolve) => (this.resolveStop = resolve));
  }

  install(): this {
    this.relayOff('lifecycle installed');
    for (const signal of STOP_SIGNALS) this.listen(signal, () => this.onStopSignal(signal));
    this.listen('SIGHUP', () => void this.reload('SIGHUP'));
    this.listen('SIGUSR1', () => this.onPressSignal());
    this.listen('uncaughtException', (error: unknown, origin: string) => this.fatal(error, origin ?? 'uncaughtException'));
    this.listen('unhandledRejection', (reason: unknown) => this.fatal(reason, 'unhandledRejection'));
    this.listen('exit', () => {
      // After a clean stop the pins are already released (and off); writing again would only log noise.
      if (this.relay?.isOn?.() !== false) this.relayOff('process exit');
      for (const step of this.exitSteps) {
        try {
          step();
        } catch { /* exiting anyway */ }
      }
    });
    return this;
  }

  uninstall(): void {
    for (const [event, listener] of this.listeners) this.proc.off(event, listener);
    this.listeners.length = 0;
    if (this.hardExitTimer) clearTimeout(this.hardExitTimer);
    this.hardExitTimer = null;
  }

  /** Why the process is stopping, or null while it is not. */
  stopReason(): string | null {
    return this.stopping;
  }

  /** The relay every fail-safe path switches off (the daemon's guarded relay, once GPIO is open). */
  setRelay(relay: RelaySwitch): void {
    this.relay = relay;
  }

  /** The daemon's logger replaces the boot logger once the config is loaded. */
  setLogger(log: Logger): void {
    this.log = log;
  }

  /** Adds a step to the one shutdown list; steps run last-registered first, each awaited, failures logged. */
  onShutdown(name: string, run: Step['run']): void {
    this.steps.push({ name, run });
  }

  /** A synchronous step for the moment the process exits whatever the path (restore the terminal). */
  onExit(step: () => void): void {
    this.exitSteps.push(step);
  }

  /** SIGUSR1 presses; returns the way to stop listening. */
  onPress(handler: () => void): () => void {
    this.pressHandlers.add(handler);
    return () => void this.pressHandlers.delete(handler);
  }

  /** What SIGHUP (and `facegate reload`) reloads. */
  onReload(handler: () => Promise<unknown> | unknown): void {
    this.reloadHandlers.push(handler);
  }

  /** Synchronous and never throws: callable from any handler. */
  relayOff(why: string): boolean {
    if (!this.relay) return true;
    try {
      this.relay.set(false);
      return true;
    } catch (error) {
      try {
        this.log.fatal({ err: error, why }, 'failsafe: could not de-energise the relay');
      } catch { /* the logger itself is broken; nothing more to do here */ }
      return false;
    }
  }

  /** Relay off, log, exit non-zero. Used for crashes and by the watchdog path when the daemon cannot go on. */
  fatal(error: unknown, origin: string): void {
    this.relayOff(origin);
    try {
      this.log.fatal({ err: error, origin }, `fatal ${origin}: relay off, exiting ${EXIT_FATAL} for systemd to restart`);
    } catch { /* keep going: exiting matters more than the log line */ }
    this.proc.exit(EXIT_FATAL);
  }

  /** A stop asked for from inside (key q): the same path as SIGTERM, without a signal. */
  requestStop(reason: string): void {
    if (this.stopping !== null) return;
    this.relayOff(reason);
    this.beginStop(reason);
  }

  /** Runs the shutdown list under the hard-exit timer; resolves with the exit code to use. */
  async shutdown(): Promise<number> {
    const reason = this.stopping ?? 'shutdown';
    if (this.stopping === null) this.beginStop(reason);
    for (const step of [...this.steps].reverse()) {
      try {
        await step.run();
      } catch (error) {
        this.relayOff(`shutdown step ${step.name} failed`);
        this.log.error({ err: error, step: step.name }, 'shutdown step failed; relay forced off');
        this.exitCode = this.exitCode || EXIT_CODES.failed;
      }
    }
    this.relayOff('shutdown done');
    return this.exitCode;
  }

  async reload(origin: string): Promise<void> {
    if (this.reloadHandlers.length === 0) {
      this.log.warn({ origin }, 'reload asked for before the daemon is up: nothing to reload yet');
      return;
    }
    this.log.info({ origin }, 'reloading');
    for (const handler of this.reloadHandlers) {
      try {
        await handler();
      } catch (error) {
        this.log.error({ err: error, origin }, `reload failed: ${errorText(error)}`);
      }
    }
  }

  private onPressSignal(): void {
    if (this.pressHandlers.size === 0 || this.stopping !== null) {
      this.log.info('SIGUSR1 ignored: the door is not taking presses (starting or stopping)');
      return;
    }
    for (const handler of this.pressHandlers) handler();
  }

  private onStopSignal(signal: StopSignal): void {
    this.relayOff(signal);
    if (this.stopping !== null) {
      this.log.warn({ signal }, 'second stop signal: exiting now');
      this.proc.exit(EXIT_STOP_HUNG);
      return;
    }
    const code = signal === 'SIGTERM' || signal === 'SIGINT' ? 0 : 128 + SIGNAL_NUMBERS[signal];
    // With nothing to shut down gracefully (no step, no other listener), exit like Node's default would.
    if (this.steps.length === 0 && this.proc.listenerCount(signal) <= 1) {
      this.log.info({ signal }, 'stop signal with no graceful handler: relay off, exiting');
      this.proc.exit(code);
      return;
    }
    this.exitCode = code;
    this.log.info({ signal }, 'stop signal: relay off, shutting down');
    this.beginStop(signal);
  }

  private beginStop(reason: string): void {
    this.stopping = reason;
    this.hardExitTimer = setTimeout(() => {
      this.relayOff('hard exit');
      this.log.fatal({ reason, afterMs: this.hardExitMs }, 'graceful stop hung: relay off, hard exit');
      this.proc.exit(EXIT_STOP_HUNG);
    }, this.hardExitMs);
    // It must not keep a finished process alive, only end a hung one.
    this.hardExitTimer.unref();
    this.resolveStop(reason);
  }

  private listen(event: string, listener: (...args: any[]) => void): void {
    this.proc.on(event, listener);
    this.listeners.push([event, listener]);
  }
}
