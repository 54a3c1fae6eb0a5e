import type { Settings } from '../config.js';
import type { Logger } from '../log.js';
import type { Button, Output } from './gpio.js';
import { SimulatedButton, SimulatedOutput } from './simulated.js';

/** Everything the door needs from GPIO. LEDs are null when their pin is not wired. */
export interface GpioSet {
  button: Button;
  relay: Output;
  leds: { green: Output | null; red: Output | null; busy: Output | null };
  /** De-energises every output and releases the pins. */
  release(): Promise<void>;
}

/** One case per driver; each driver module is loaded only when chosen. */
export async function createGpio(settings: Settings['gpio'], log: Logger): Promise<GpioSet> {
  switch (settings.driver) {
    case 'simulated':
      return simulatedGpio(log.child({ component: 'gpio' }));
    case 'onoff':
      return (await import('./onoff.js')).onoffGpio(settings, log.child({ component: 'gpio' }));
    default:
      throw new Error(`GPIO driver "${settings.driver}" is not available in this build`);
  }
}

export function simulatedGpio(log: Logger): GpioSet {
  const relay = new SimulatedOutput('relay', log);
  const leds = {
    green: new SimulatedOutput('led-green', log),
    red: new SimulatedOutput('led-red', log),
    busy: new SimulatedOutput('led-busy', log),
  };
  return {
    button: new SimulatedButton(),
    relay,
    leds,
    async release() {
      await relay.release();
      await Promise.all(Object.values(leds).map((led) => led.release()));
    },
  };
}
