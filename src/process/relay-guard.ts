import { join } from 'node:path';
import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import type { Settings } from '../config/index.js';
import type { LedPattern, Output } from '../gpio/gpio.js';
import { resolvePins } from '../gpio/pins.js';
import type { Logger } from '../log.js';
import { RelayDeadman, type SysfsRelayTarget } from './watchdog.js';

export interface GuardOptions {
  /** door.maxUnlockMs: no pulse, whoever asked for it, lasts longer. */
  maxOnMs: number;
  log: Logger;
  clock?: Clock;
  /** Off-thread enforcement of the cap for when the event loop is stuck; see RelayDeadman. */
  deadman?: RelayDeadman | null;
}

/**
 * The relay as the door sees it, with the hard cap built in: the first set(true) arms an off-timer (and the
 * off-thread deadman, which still fires while the event loop is blocked), every set(false) disarms them
 * only after the relay write succeeded. The cap is on time energised, not per pulse: a set(true) while the
 * relay is already on (a second unlock, a re-pulse) keeps the deadline of the first, so a stream of pulses
 * cannot hold the door open past door.maxUnlockMs (12 signed unlocks used to keep a 10 s cap on for 30 s).
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
    if (this.timer !== null && this.isOn()) {
      // Already energised under a running cap: write again (idempotent), never extend the deadline.
      this.relay.set(true);
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
