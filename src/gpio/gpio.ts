/** A push button. Handlers run once per debounced press. */
export interface Button {
  onPress(handler: () => void): void;
  start(): Promise<void>;
  /** Releases the pin; no handler runs afterwards. */
  stop(): Promise<void>;
}

/** Blink patterns an LED can show; `on`/`off` are steady. */
export type LedPattern = 'off' | 'on' | 'blink-slow' | 'blink-fast';

/**
 * A digital output: relay or LED. `set(true)` means energised/lit whatever the wiring polarity;
 * active-low handling belongs to the adapter.
 */
export interface Output {
  readonly name: string;
  set(on: boolean): void;
  /** Current logical state as last written (true = energised/lit). */
  isOn(): boolean;
  /** Steady or blinking; only meaningful for LEDs. */
  show(pattern: LedPattern): void;
  /** De-energises and releases the pin. Safe to call more than once. */
  release(): Promise<void>;
}

/** Everything the door needs from GPIO. LEDs are null when their pin is not wired. */
export interface GpioSet {
  button: Button;
  relay: Output;
  leds: { green: Output | null; red: Output | null; busy: Output | null };
  /** De-energises every output and releases the pins. */
  release(): Promise<void>;
}
