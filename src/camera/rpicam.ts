import type { Settings } from '../config/index.js';
import type { Logger } from '../log.js';
import { findExecutable, ProcessCamera } from './process.js';

/** Bookworm ships rpicam-vid; Bullseye called the same program libcamera-vid. */
export const RPICAM_COMMANDS = ['rpicam-vid', 'libcamera-vid'];

/** camera.command when set, else the first of rpicam-vid / libcamera-vid on PATH, else null. */
export function resolveRpicamCommand(camera: Settings['camera'], pathVariable?: string): string | null {
  if (camera.command) return findExecutable([camera.command], pathVariable);
  return findExecutable(RPICAM_COMMANDS, pathVariable);
}

/** An endless MJPEG stream on stdout, no preview window; extraArgs (e.g. --rotation 180) go last. */
export function rpicamArgs(camera: Settings['camera']): string[] {
  return [
    '-t', '0',
    '--codec', 'mjpeg',
    '--nopreview',
    '--width', String(camera.width),
    '--height', String(camera.height),
    '--framerate', String(camera.framerate),
    '-o', '-',
    ...camera.extraArgs.map(String),
  ];
}

/** The Raspberry Pi camera through rpicam-vid, kept running so grab() is instant. */
export function createRpicamCamera(camera: Settings['camera'], logger: Logger): ProcessCamera {
  const command = resolveRpicamCommand(camera);
  if (!command) {
    const wanted = camera.command ?? RPICAM_COMMANDS.join(' or ');
    throw new Error(
      `camera: ${wanted} not found${camera.command ? '' : ' on PATH'}; install rpicam-apps (sudo apt install rpicam-apps) or set camera.command`,
    );
  }
  return new ProcessCamera({
    driver: 'rpicam',
    command,
    args: rpicamArgs(camera),
    maxAgeMs: camera.maxAgeMs,
    restartMinMs: camera.restartMinMs,
    restartMaxMs: camera.restartMaxMs,
    logger: logger.child({ camera: 'rpicam' }),
  });
}
