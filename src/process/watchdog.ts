import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { Camera } from '../camera/camera.js';
import type { Logger } from '../log.js';
import type { Verifier } from '../core/types.js';

/** One health check: null when healthy, else why not. */
export interface HealthProbe {
  readonly name: string;
  check(): string | null;
  /** Releases whatever the probe holds (timers, histograms). */
  close?(): void;
}

/** Whatever pings systemd; SystemdNotifier in the daemon, a recorder in tests. */
export interface WatchdogPinger {
  notifyWatchdog(): Promise<unknown>;
}

export interface WatchdogOptions {
  pinger: WatchdogPinger;
  /** How often to check and ping: half of WATCHDOG_USEC. */
  intervalMs: number;
  probes: HealthProbe[];
  log: Logger;
  /**
   * Called on every check that fails, before systemd's timeout kills us: the daemon turns the relay off here,
   * so a door whose camera, model or event loop is sick is never left open while it waits to be restarted.
   */
  onUnhealthy: (reasons: string[]) => void;
}

/**
 * Pings WATCHDOG=1 only while every probe is healthy. A blocked event loop pings nothing by itself (the timer
 * cannot run); the event-loop probe also catches a loop that is running but badly stalled between ticks.
 */
export class Watchdog {
  private timer: NodeJS.Timeout | null = null;
  private failing: string[] | null = null;
  pings = 0;
  missed = 0;

  constructor(private readonly options: WatchdogOptions) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const probe of this.options.probes) probe.close?.();
  }

  /** One check-and-ping; public so tests and the daemon's startup can run it on demand. */
  tick(): boolean {
    const reasons: string[] = [];
    for (const probe of this.options.probes) {
      let problem: string | null;
      try {
        problem = probe.check();
      } catch (error) {
        problem = `check threw: ${error instanceof Error ? error.message : String(error)}`;
      }
      if (problem) reasons.push(`${probe.name}: ${problem}`);
    }
    if (reasons.length === 0) {
      if (this.failing) this.options.log.info('watchdog: healthy again, pinging systemd');
      this.failing = null;
      this.pings++;
      void this.options.pinger.notifyWatchdog();
      return true;
    }
    this.missed++;
    if (this.failing?.join() !== reasons.join()) {
      this.options.log.error({ reasons }, 'watchdog: unhealthy, not pinging systemd (it restarts us when the timeout passes)');
    }
    this.failing = reasons;
    try {
      this.options.onUnhealthy(reasons);
    } catch (error) {
      this.options.log.error({ err: error }, 'watchdog: onUnhealthy failed');
    }
    return false;
  }
}

/** Healthy while the camera says frames arrive as expected. */
export function cameraProbe(camera: Pick<Camera, 'status'>): HealthProbe {
  return {
    name: 'camera',
    check() {
      const status = camera.status();
      return status.healthy ? null : (status.lastError ?? 'no fresh frames');
    },
  };
}

/** Healthy while the verifier says its model and gallery are usable. */
export function verifierProbe(verifier: Pick<Verifier, 'info'>): HealthProbe {
  return { name: 'verifier', check: () => (verifier.info().healthy ? null : 'model or gallery not usable') };
}

/**
 * Unhealthy when the event loop stalled longer than maxDelayMs at any moment since the previous check
 * (a runaway synchronous job: the door's relay timer would have fired late).
 */
export function eventLoopProbe(maxDelayMs: number): HealthProbe {
  const histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: 20 });
  histogram.enable();
  return {
    name: 'event loop',
    check() {
      const worstMs = histogram.max / 1e6;
      histogram.reset();
      return worstMs > maxDelayMs ? `stalled for ${Math.round(worstMs)} ms (limit ${maxDelayMs} ms)` : null;
    },
    close() {
      histogram.disable();
    },
  };
}

/** Where the relay lives in sysfs, so a thread other than the main one can switch it off. */
export interface SysfsRelayTarget {
  /** e.g. /sys/class/gpio/gpio539/value */
  valuePath: string;
  /** gpio.relay.activeLow: the relay is energised by a low pin. */
  activeLow: boolean;
}

/**
 * Runs in a worker thread, so it keeps time while the main event loop is blocked. It sleeps on a shared
 * generation word (Atomics.wait); when an armed deadline passes without a disarm, it writes the relay's OFF
 * level straight into sysfs (honouring the kernel's active_low inversion, which onoff sets) and counts it.
 */
const DEADMAN_SOURCE = `
const { workerData } = require('node:worker_threads');
const fs = require('node:fs');
const path = require('node:path');
const flags = new Int32Array(workerData.flags);
const deadline = new Float64Array(workerData.deadline);
function forceOff() {
  // Counted first: whoever sees the relay off must also see that the deadman did it.
  Atomics.add(flags, 1, 1);
  const target = workerData.target;
  if (target) {
    try {
      let inverted = false;
      try { inverted = fs.readFileSync(path.join(path.dirname(target.valuePath), 'active_low'), 'utf8').trim() === '1'; } catch {}
      const offLevel = target.activeLow ? 1 : 0;
      fs.writeFileSync(target.valuePath, String(inverted ? 1 - offLevel : offLevel));
    } catch { Atomics.add(flags, 2, 1); }
  }
}
for (;;) {
  const generation = Atomics.load(flags, 0);
  if (generation === -1) break;
  if (generation === 0) { Atomics.wait(flags, 0, 0); continue; }
  const remaining = deadline[0] - Date.now();
  if (remaining > 0) { Atomics.wait(flags, 0, generation, remaining); continue; }
  if (Atomics.compareExchange(flags, 0, generation, 0) === generation) forceOff();
}
`;

/** The last line of the hard cap: holds even when a runaway synchronous job stalls the event loop. */
export class RelayDeadman {
  private readonly flags = new Int32Array(new SharedArrayBuffer(3 * 4));
  private readonly deadline = new Float64Array(new SharedArrayBuffer(8));
  private readonly worker: Worker;
  private generation = 0;

  /**
   * target: the sysfs relay (onoff driver), or null for a simulated relay, where the deadman only records
   * that it would have fired. graceMs: head start for the ordinary in-loop timer, which is the normal path.
   */
  constructor(readonly target: SysfsRelayTarget | null, private readonly graceMs = 250) {
    this.worker = new Worker(DEADMAN_SOURCE, {
      eval: true,
      execArgv: [],
      workerData: { flags: this.flags.buffer, deadline: this.deadline.buffer, target },
    });
    this.worker.unref();
  }

  arm(maxOnMs: number): void {
    this.deadline[0] = Date.now() + maxOnMs + this.graceMs;
    this.generation = (this.generation % 1_000_000) + 1;
    Atomics.store(this.flags, 0, this.generation);
    Atomics.notify(this.flags, 0);
  }

  disarm(): void {
    Atomics.store(this.flags, 0, 0);
    Atomics.notify(this.flags, 0);
  }

  /** How many times the deadman had to switch the relay off itself. */
  forcedCount(): number {
    return Atomics.load(this.flags, 1);
  }

  /** How many of those forced writes failed (sysfs gone, permissions). */
  failedWrites(): number {
    return Atomics.load(this.flags, 2);
  }

  async close(): Promise<void> {
    Atomics.store(this.flags, 0, -1);
    Atomics.notify(this.flags, 0);
    await this.worker.terminate();
  }
}
