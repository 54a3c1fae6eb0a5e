import type { Button, LedPattern, Output } from './gpio.js';
import type { Logger } from '../log.js';

/**
 * The relay and LEDs of the embedded default: no pins, every change is logged so the attempt can be
 * followed in the log (and over MQTT, through the status events).
 */
export class SimulatedOutput implements Output {
  private on = false;
  private pattern: LedPattern = 'off';

  constructor(
    readonly name: string,
    private readonly log: Logger,
  ) {}

  set(on: boolean): void {
    const changed = on !== this.on;
    this.on = on;
    this.pattern = on ? 'on' : 'off';
    if (changed) this.log.info({ output: this.name, on }, `${this.name} ${on ? 'on' : 'off'} (simulated)`);
  }

  isOn(): boolean {
    return this.on;
  }

  show(pattern: LedPattern): void {
    if (pattern === this.pattern) return;
    this.pattern = pattern;
    this.on = pattern !== 'off';
    // Every change is logged (README "Running it"): with simulated LEDs the log is the only way to see them.
    this.log.info({ output: this.name, pattern }, `${this.name} ${pattern} (simulated)`);
  }

  /** The pattern last shown, for tests and status. */
  currentPattern(): LedPattern {
    return this.pattern;
  }

  async release(): Promise<void> {
    this.set(false);
  }
}

/**
 * A button pressed from software: the keyboard, SIGUSR1 or a test call press(). The daemon also wires
 * those sources straight to the door (with their own trigger names); this button exists so the daemon
 * treats simulated and real GPIO the same way.
 */
export class SimulatedButton implements Button {
  private handlers: Array<() => void> = [];
  private running = false;

  onPress(handler: () => void): void {
    this.handlers.push(handler);
  }

  async start(): Promise<void> {
    this.running = true;
  }

  press(): void {
    if (!this.running) return;
    for (const handler of this.handlers) handler();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.handlers = [];
  }
}
