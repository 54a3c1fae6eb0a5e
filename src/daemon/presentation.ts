import type { Camera, Frame } from '../camera/camera.js';
import type { AttemptEvent, StatusEvent } from '../core/events.js';
import type { Verifier } from '../core/types.js';
import type { LedPattern } from '../gpio/gpio.js';

/**
 * What the door does about presentation attacks (issue 13), kept beside door.ts: the frames an attempt
 * captures (a burst when the verifier's liveness mode wants one, ~400 ms for 5 frames at 10 fps), what the
 * red LED shows for each refusal, and the liveness mode the status reports.
 */

/** The press frame first, then the burst's further frames (none when liveness is off). */
export async function captureFrames(camera: Camera, verifier: Verifier, signal: AbortSignal): Promise<{ frame: Frame; burst: Frame[] }> {
  const liveness = verifier.liveness();
  const frames = liveness.burstFrames > 1
    ? await camera.burst({ count: liveness.burstFrames, durationMs: liveness.burstDurationMs }, signal)
    : [await camera.grab(signal)];
  const [frame, ...burst] = frames;
  if (!frame) throw new Error('the camera returned an empty burst');
  return { frame, burst };
}

/** Steady red for a face that did not match (or none), slow blinking for a photo or a screen, fast for a fault. */
export const RED_PATTERN: Record<Exclude<AttemptEvent['decision'], 'granted'>, LedPattern> = {
  denied: 'on',
  no_face: 'on',
  spoof: 'blink-slow',
  error: 'blink-fast',
};

export function livenessState(verifier: Verifier): StatusEvent['liveness'] {
  const { mode, warning } = verifier.liveness();
  return warning ? { mode, warning } : { mode };
}
