import type { Settings } from '../config/index.js';
import type { Logger } from '../log.js';
import type { GpioSet } from './gpio.js';
export type { GpioSet } from './gpio.js';
import { SimulatedButton, SimulatedOutput } from './simulated.js';

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
