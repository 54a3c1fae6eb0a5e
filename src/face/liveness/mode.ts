import type { LivenessStatus } from '../../core/types.js';
import type { LivenessSettings } from './settings.js';

export const FOLDER_CAMERA_WARNING =
  'liveness is OFF: the folder camera gives one still image, which cannot show a live face, so a photo of an ' +
  'enrolled person opens the door. Use a streaming camera (rpicam, v4l2, http) for burst liveness';

/** Frames the door captures per attempt for a mode: the infrared mode interleaves IR frames between colour ones. */
export function framesFor(mode: string, burst: LivenessSettings['burst']): { frames: number; durationMs: number } {
  if (mode === 'off') return { frames: 1, durationMs: 0 };
  if (mode === 'infrared') return { frames: Math.max(4, burst.frames * 2 - 1), durationMs: burst.durationMs * 2 };
  return { frames: burst.frames, durationMs: burst.durationMs };
}

/**
 * The mode in force: "auto" is "burst" on every streaming camera and "off" with the folder camera. An explicit
 * mode is taken as it is, with a warning where it cannot work as intended.
 */
export function resolveLiveness(settings: { liveness: LivenessSettings; camera: { driver: string } }): LivenessStatus {
  const folder = settings.camera.driver === 'files';
  const mode = settings.liveness.mode === 'auto' ? (folder ? 'off' : 'burst') : settings.liveness.mode;
  const { frames, durationMs } = framesFor(mode, settings.liveness.burst);
  const status: LivenessStatus = { mode, burstFrames: frames, burstDurationMs: durationMs };
  if (mode === 'off') {
    status.warning = folder ? FOLDER_CAMERA_WARNING : 'liveness is OFF (liveness.mode "off"): a photo of an enrolled person opens the door';
  } else if (folder) {
    status.warning = `liveness mode "${mode}" with the folder camera: each attempt uses the newest ${frames} images in the folder as its burst; a single photo is refused as spoof`;
  }
  return status;
}
