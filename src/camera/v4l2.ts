import type { Settings } from '../config/index.js';
import type { Logger } from '../log.js';
import { findExecutable, ProcessCamera } from './process.js';

/**
 * ffmpeg reading a USB webcam's own MJPEG and copying it to stdout without re-encoding: the webcam does the
 * compression, so this costs almost no CPU on the Pi.
 */
export function v4l2Args(camera: Settings['camera']): string[] {
  return [
    '-hide_banner',
    '-loglevel', 'error',
    '-f', 'v4l2',
    '-input_format', 'mjpeg',
    '-video_size', `${camera.width}x${camera.height}`,
    '-framerate', String(camera.framerate),
    '-i', camera.device,
    ...camera.extraArgs.map(String),
    '-c', 'copy',
    '-f', 'mjpeg',
    '-',
  ];
}

export function resolveFfmpegCommand(camera: Settings['camera'], pathVariable?: string): string | null {
  return findExecutable([camera.command ?? 'ffmpeg'], pathVariable);
}

/** A USB webcam through ffmpeg, supervised exactly like rpicam-vid. */
export function createV4l2Camera(camera: Settings['camera'], logger: Logger): ProcessCamera {
  const command = resolveFfmpegCommand(camera);
  if (!command) {
    throw new Error(`camera: ${camera.command ?? 'ffmpeg'} not found; install it (sudo apt install ffmpeg) or set camera.command`);
  }
  return new ProcessCamera({
    driver: 'v4l2',
    command,
    args: v4l2Args(camera),
    maxAgeMs: camera.maxAgeMs,
    restartMinMs: camera.restartMinMs,
    restartMaxMs: camera.restartMaxMs,
    logger: logger.child({ camera: 'v4l2' }),
  });
}
