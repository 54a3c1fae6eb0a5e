import type { Clock } from '../core/clock.js';
import { errorText } from '../core/errors.js';

/** Runs one stage of an attempt under its own timeout; resolves or rejects as soon as either fires, whatever the work does. */
export async function runStage<T>(clock: Clock, name: string, timeoutMs: number, parent: AbortSignal, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  if (parent.aborted) throw parent.reason;
  const controller = new AbortController();
  const onParentAbort = () => controller.abort(parent.reason);
  parent.addEventListener('abort', onParentAbort, { once: true });
  const timer = clock.setTimeout(() => controller.abort(new Error(`${name} timed out after ${timeoutMs} ms`)), timeoutMs);
  try {
    return await new Promise<T>((resolve, reject) => {
      controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
      Promise.resolve()
        .then(() => work(controller.signal))
        .then(resolve, (error: unknown) => reject(new Error(`${name} failed: ${errorText(error)}`)));
    });
  } finally {
    timer.cancel();
    parent.removeEventListener('abort', onParentAbort);
  }
}
