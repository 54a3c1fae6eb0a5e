import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Camera } from '../camera/camera.js';
import type { Logger } from '../log.js';
import type { Verifier } from '../siamese/types.js';

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
