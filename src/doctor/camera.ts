import { existsSync } from 'node:fs';
import { cameraFolder, type Settings } from '../config/index.js';
import type { Logger } from '../log.js';
import type { Camera } from '../camera/camera.js';
import { createCamera } from '../camera/factory.js';
import { RPICAM_COMMANDS, resolveRpicamCommand } from '../camera/rpicam.js';
import { resolveFfmpegCommand } from '../camera/v4l2.js';
import { fail, messageOf, pass, skip, type CheckResult } from './types.js';

const NAME_COMMAND = 'camera-command';
const NAME_FRAMES = 'camera-frames';

/** The capture program (rpicam/v4l2) or the source (files folder, http URL) exists. */
export function cameraCommandCheck(settings: Settings): CheckResult {
  const camera = settings.camera;
  switch (camera.driver) {
    case 'rpicam': {
      const found = resolveRpicamCommand(camera);
      if (found) return pass(NAME_COMMAND, `rpicam: ${found}`, { command: found });
      const wanted = camera.command ?? `${RPICAM_COMMANDS.join(' or ')} on PATH`;
      return fail(NAME_COMMAND, `rpicam: ${wanted} not found`, camera.command
        ? `camera.command points at ${camera.command}, which is not an executable file: fix the path, or unset it to use rpicam-vid from PATH`
        : 'sudo apt install rpicam-apps (Raspberry Pi OS Bookworm), or set camera.command to the capture program');
    }
    case 'v4l2': {
      const found = resolveFfmpegCommand(camera);
      if (!found) return fail(NAME_COMMAND, `v4l2: ${camera.command ?? 'ffmpeg'} not found`, 'sudo apt install ffmpeg, or set camera.command');
      if (!camera.command && !existsSync(camera.device)) {
        return fail(NAME_COMMAND, `v4l2: ${found}, but ${camera.device} does not exist`, 'plug in the webcam; list devices with "v4l2-ctl --list-devices"; set camera.device');
      }
      return pass(NAME_COMMAND, `v4l2: ${found} reading ${camera.device}`, { command: found });
    }
    case 'files': {
      const folder = cameraFolder(settings);
      return existsSync(folder)
        ? pass(NAME_COMMAND, `files: watching ${folder}`)
        : fail(NAME_COMMAND, `files: ${folder} does not exist`, `mkdir -p ${folder} and drop an image in it, or set camera.folder`);
    }
    case 'http':
      return camera.url ? pass(NAME_COMMAND, `http: ${redact(camera.url)} (${camera.httpMode})`) : fail(NAME_COMMAND, 'http: no camera.url', 'set camera.url');
    default:
      return skip(NAME_COMMAND, `unknown driver ${String(camera.driver)}`);
  }
}

/** Starts the camera for a few seconds: frames must arrive, and grab() must hand one out. */
export async function cameraFramesCheck(settings: Settings, log: Logger, windowMs: number, commandOk: boolean): Promise<CheckResult> {
  if (!commandOk) return fail(NAME_FRAMES, 'not started: the camera source is missing', 'fix the camera-command check first');
  let camera;
  try {
    camera = await createCamera(settings, log);
  } catch (error) {
    return fail(NAME_FRAMES, messageOf(error), 'fix the camera settings named above');
  }
  try {
    const startedAt = Date.now();
    await camera.start();
    // A real camera takes a second or two to start streaming; measure the rate once frames flow.
    const firstFrameMs = await waitForFirstFrame(camera, FIRST_FRAME_TIMEOUT_MS);
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    const frame = await camera.grab(AbortSignal.timeout(settings.camera.maxAgeMs + 2000));
    const status = camera.status();
    const data = { fps: status.fps, lastFrameAgeMs: status.lastFrameAgeMs, restarts: status.restarts, bytes: frame.data.length, firstFrameMs: firstFrameMs ?? Date.now() - startedAt };
    const streaming = settings.camera.driver !== 'files' && !(settings.camera.driver === 'http' && settings.camera.httpMode === 'snapshot');
    if (streaming && !(status.fps > 0)) {
      return fail(NAME_FRAMES, `a frame arrived but fps is ${status.fps}`, status.lastError ?? 'the stream stalls; check the capture program', data);
    }
    const rate = streaming ? `${status.fps} fps over ${Math.round(windowMs / 100) / 10} s, first frame after ${data.firstFrameMs} ms, ` : '';
    return pass(NAME_FRAMES, `${rate}frame of ${frame.data.length} bytes, ${status.restarts} restarts`, data);
  } catch (error) {
    const status = camera.status();
    return fail(NAME_FRAMES, messageOf(error), cameraHint(settings), { fps: status.fps, restarts: status.restarts });
  } finally {
    await camera.stop();
  }
}

const FIRST_FRAME_TIMEOUT_MS = 10_000;

/** Milliseconds until the camera reports a frame, or null when none came in time (the grab then explains). */
async function waitForFirstFrame(camera: Camera, timeoutMs: number): Promise<number | null> {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    if (camera.status().lastFrameAgeMs !== null) return Date.now() - start;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return null;
}

function cameraHint(settings: Settings): string {
  switch (settings.camera.driver) {
    case 'rpicam':
      return 'run "rpicam-hello --list-cameras"; check the ribbon cable and that the user is in group "video"';
    case 'v4l2':
      return `run "v4l2-ctl -d ${settings.camera.device} --list-formats-ext": the webcam must offer MJPEG at ${settings.camera.width}x${settings.camera.height}; user in group "video"`;
    case 'http':
      return 'open camera.url in a browser; check camera.username/password and camera.httpMode';
    default:
      return `put a JPEG or PNG into ${cameraFolder(settings)}`;
  }
}

/** A URL without its credentials, for printing. */
function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}
