import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, type Settings } from '../config/index.js';
import type { Logger } from '../log.js';
import type { GpioSet } from './gpio.js';
import type { Button, LedPattern, Output } from './gpio.js';
import { resolvePins } from './pins.js';

/** The part of onoff's `Gpio` this adapter uses; tests pass a class of the same shape. */
export type Direction = 'in' | 'out' | 'high' | 'low';
export type Edge = 'none' | 'rising' | 'falling' | 'both';
export type BinaryValue = 0 | 1;
export interface OnoffOptions {
  debounceTimeout?: number;
  activeLow?: boolean;
}
export interface OnoffGpio {
  readSync(): BinaryValue;
  writeSync(value: BinaryValue): void;
  watch(callback: (err: Error | null | undefined, value: BinaryValue) => void): void;
  unwatchAll(): void;
  activeLow(): boolean;
  unexport(): void;
}
export interface OnoffGpioClass {
  new (gpio: number, direction: Direction, edge: Edge, options?: OnoffOptions): OnoffGpio;
  new (gpio: number, direction: Direction, options?: OnoffOptions): OnoffGpio;
}

/**
 * onoff's native addon (epoll) cannot load: built for another Node (after a Node major upgrade) or never built
 * (npm 12 skips install scripts that package.json's allowScripts does not approve, and `npm ci` still exits 0).
 * Restarting cannot fix either, so it is a configuration error (exit 78: systemd does not loop on it).
 */
export class OnoffLoadError extends ConfigError {
  constructor(readonly kind: 'node-upgrade' | 'not-built' | 'other', detail: string, readonly fix: string, cause: unknown) {
    super([{ key: 'gpio.driver', reason: `onoff cannot load: ${detail}; fix: ${fix}` }]);
    this.name = 'OnoffLoadError';
    this.cause = cause;
  }
}

/** Where `npm rebuild` must run: the folder holding node_modules/onoff (e.g. /opt/facegate). */
function installRoot(): string {
  const here = fileURLToPath(import.meta.url);
  return here.includes('/dist/') || here.includes('/src/') ? dirname(dirname(dirname(here))) : process.cwd();
}

/** Turns Node's dlopen/bindings errors into what happened and the command that repairs it. */
export function explainOnoffLoadError(error: unknown): OnoffLoadError {
  const message = error instanceof Error ? error.message : String(error);
  const root = installRoot();
  const abi = /NODE_MODULE_VERSION (\d+)\. This version of Node\.js requires\s+NODE_MODULE_VERSION (\d+)/.exec(message);
  if (abi || /compiled against a different Node\.js version/.test(message)) {
    const detail = abi ? `epoll was built for another Node (module version ${abi[1]}; Node ${process.versions.node} needs ${abi[2]})` : 'epoll was built for another Node';
    return new OnoffLoadError('node-upgrade', detail, `run npm rebuild in ${root} after a Node upgrade (cd ${root} && npm rebuild)`, error);
  }
  if (/Could not locate the bindings file|Cannot find module '.*epoll/.test(message)) {
    return new OnoffLoadError('not-built', "epoll's native addon was never built (its install script did not run)",
      `run npm rebuild epoll in ${root} (package.json allowScripts approves it; build tools needed: sudo apt install build-essential python3)`, error);
  }
  return new OnoffLoadError('other', message.split('\n')[0]!, `run npm rebuild in ${root}; if it persists, reinstall with npm ci`, error);
}

/** onoff is CommonJS with a native dependency (epoll): loaded only when the onoff driver is chosen. */
export function loadOnoff(): OnoffGpioClass {
  try {
    return (createRequire(import.meta.url)('onoff') as { Gpio: OnoffGpioClass }).Gpio;
  } catch (error) {
    throw explainOnoffLoadError(error);
  }
}

export interface PinSpec {
  bcm: number;
  sysfs: number;
  /** The setting to change, named in error messages. */
  configKey: string;
}

const BLINK_HALF_PERIOD_MS: Record<'blink-slow' | 'blink-fast', number> = { 'blink-slow': 500, 'blink-fast': 120 };

/** Turns the kernel's terse errno into what the person at the door should do. */
export function explainGpioError(error: unknown, pin: PinSpec): Error {
  const err = error as NodeJS.ErrnoException;
  const where = `BCM ${pin.bcm} (sysfs gpio${pin.sysfs}, ${pin.configKey})`;
  switch (err?.code) {
    case 'ENOENT':
      return new Error(
        `${where}: ${err.path ?? '/sys/class/gpio'} does not exist: this kernel has no GPIO sysfs interface (CONFIG_GPIO_SYSFS); ` +
          'use Raspberry Pi OS, or gpio.driver "simulated"',
      );
    case 'EACCES':
    case 'EPERM':
      return new Error(
        `${where}: permission denied on ${err.path ?? '/sys/class/gpio'}: add the service user to group "gpio" ` +
          '(sudo usermod -aG gpio $USER, then log in again) or run as root',
      );
    case 'EINVAL':
      return new Error(
        `${where}: the kernel refused to export gpio${pin.sysfs}: not a GPIO line on this board. ` +
          `Check ${pin.configKey} and run "facegate doctor" to see how pins resolve`,
      );
    case 'EBUSY':
      return new Error(`${where}: pin in use by another driver or program (a dtoverlay, another daemon): free it or change ${pin.configKey}`);
    default:
      return new Error(`${where}: ${err?.message ?? String(error)}`);
  }
}

/**
 * A push button. The edge is the press edge of the wiring (falling for a button to GND with a pull-up); onoff
 * debounces, and the level is read again before a press counts, so a bounce that settled released is ignored.
 */
export class OnoffButton implements Button {
  private gpio: OnoffGpio | null = null;
  private handlers: Array<() => void> = [];

  constructor(
    private readonly pin: PinSpec & { activeLow: boolean; debounceMs: number },
    private readonly log: Logger,
    private readonly Gpio: OnoffGpioClass,
  ) {}

  onPress(handler: () => void): void {
    this.handlers.push(handler);
  }

  async start(): Promise<void> {
    if (this.gpio) return;
    const edge: Edge = this.pin.activeLow ? 'falling' : 'rising';
    try {
      this.gpio = new this.Gpio(this.pin.sysfs, 'in', edge, { debounceTimeout: this.pin.debounceMs });
    } catch (error) {
      throw explainGpioError(error, this.pin);
    }
    this.gpio.watch((err, value) => this.onEdge(err, value));
    this.log.info({ bcm: this.pin.bcm, sysfs: this.pin.sysfs, edge }, 'button ready');
  }

  async stop(): Promise<void> {
    this.handlers = [];
    const gpio = this.gpio;
    this.gpio = null;
    if (!gpio) return;
    gpio.unwatchAll();
    gpio.unexport();
  }

  private onEdge(err: Error | null | undefined, value: BinaryValue): void {
    const gpio = this.gpio;
    if (!gpio) return;
    if (err) {
      this.log.warn({ err, bcm: this.pin.bcm }, 'button read failed');
      return;
    }
    const pressed: BinaryValue = this.pin.activeLow ? 0 : 1;
    if (value !== pressed || gpio.readSync() !== pressed) return;
    for (const handler of this.handlers) {
      try {
        handler();
      } catch (error) {
        this.log.error({ err: error }, 'button handler failed');
      }
    }
  }
}

/**
 * A relay or LED. onoff's `activeLow` makes `set(true)` mean energised on any board. The pin is exported
 * straight into the OFF level: direction "high"/"low" are raw levels that ignore active_low, whereas "out"
 * means raw low, which would pulse an active-low relay (an unlocked door) at every start.
 */
export class OnoffOutput implements Output {
  private on = false;
  private blinkTimer: NodeJS.Timeout | null = null;
  private gpio: OnoffGpio | null;

  constructor(
    readonly name: string,
    private readonly pin: PinSpec & { activeLow: boolean },
    private readonly log: Logger,
    Gpio: OnoffGpioClass,
  ) {
    const offLevel: Direction = pin.activeLow ? 'high' : 'low';
    let gpio: OnoffGpio;
    try {
      gpio = new Gpio(pin.sysfs, offLevel, { activeLow: pin.activeLow });
    } catch (error) {
      throw explainGpioError(error, pin);
    }
    // onoff ignores configuration errors on a pin that was already exported; a wrong polarity would invert the door.
    if (gpio.activeLow() !== pin.activeLow) {
      gpio.unexport();
      throw new Error(`${name} (BCM ${pin.bcm}): could not set active_low=${pin.activeLow}; unexport gpio${pin.sysfs} and retry`);
    }
    this.gpio = gpio;
  }

  set(on: boolean): void {
    this.stopBlinking();
    this.write(on);
  }

  isOn(): boolean {
    return this.on;
  }

  show(pattern: LedPattern): void {
    this.stopBlinking();
    if (pattern === 'on' || pattern === 'off') {
      this.write(pattern === 'on');
      return;
    }
    this.write(true);
    this.blinkTimer = setInterval(() => this.write(!this.on), BLINK_HALF_PERIOD_MS[pattern]);
    this.blinkTimer.unref();
  }

  async release(): Promise<void> {
    this.stopBlinking();
    const gpio = this.gpio;
    if (!gpio) return;
    try {
      this.write(false);
    } finally {
      this.gpio = null;
      gpio.unexport();
    }
  }

  private stopBlinking(): void {
    if (this.blinkTimer) clearInterval(this.blinkTimer);
    this.blinkTimer = null;
  }

  private write(on: boolean): void {
    if (!this.gpio) {
      this.log.warn({ output: this.name }, `${this.name} written after release; ignored`);
      return;
    }
    this.gpio.writeSync(on ? 1 : 0);
    this.on = on;
  }
}

/**
 * Real pins. The relay is opened first so it is in its OFF state before anything else can fail; when any
 * pin fails, those already opened are released again and the error says what to change.
 */
export function onoffGpio(settings: Settings['gpio'], log: Logger, Gpio: OnoffGpioClass = loadOnoff()): GpioSet {
  const { numbers } = resolvePins(settings.sysfsRoot, {
    relay: settings.relay.pin,
    button: settings.button.pin,
    green: settings.leds.green,
    red: settings.leds.red,
    busy: settings.leds.busy,
  });
  const opened: OnoffOutput[] = [];
  const output = (name: string, bcm: number | null, sysfs: number | null, configKey: string, activeLow: boolean) => {
    if (bcm === null || sysfs === null) return null;
    const out = new OnoffOutput(name, { bcm, sysfs, configKey, activeLow }, log.child({ output: name }), Gpio);
    opened.push(out);
    return out;
  };
  try {
    const relay = output('relay', settings.relay.pin, numbers.relay, 'gpio.relay.pin', settings.relay.activeLow);
    if (!relay) throw new Error('gpio.relay.pin must be set: a door needs its relay');
    const leds = {
      green: output('led-green', settings.leds.green, numbers.green, 'gpio.leds.green', false),
      red: output('led-red', settings.leds.red, numbers.red, 'gpio.leds.red', false),
      busy: output('led-busy', settings.leds.busy, numbers.busy, 'gpio.leds.busy', false),
    };
    const button: Button =
      settings.button.pin === null || numbers.button === null
        ? inertButton()
        : new OnoffButton(
            { bcm: settings.button.pin, sysfs: numbers.button, configKey: 'gpio.button.pin', activeLow: settings.button.activeLow, debounceMs: settings.button.debounceMs },
            log.child({ input: 'button' }),
            Gpio,
          );
    return {
      button,
      relay,
      leds,
      async release() {
        await button.stop();
        for (const out of opened) await out.release();
      },
    };
  } catch (error) {
    for (const out of opened) void out.release();
    throw error;
  }
}

/** No button wired (gpio.button.pin null): presses come from MQTT or the keyboard only. */
function inertButton(): Button {
  return { onPress() {}, async start() {}, async stop() {} };
}
