// Preloaded into a real `facegate run` (node --import) by process-crash.test.ts: the simulated relay driver
// throws asynchronously right after it energises, as a buggy adapter's event handler would. Nothing catches
// it, so only the process-level fail-safe stands between that bug and a door left open.
import { SimulatedOutput } from '../../src/gpio/simulated.js';

const originalSet = SimulatedOutput.prototype.set;
SimulatedOutput.prototype.set = function (this: SimulatedOutput, on: boolean): void {
  originalSet.call(this, on);
  if (on && this.name === 'relay') {
    setImmediate(() => {
      throw new Error('simulated adapter fault: relay driver crashed');
    });
  }
};
