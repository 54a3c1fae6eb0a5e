import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BurstRequest, Camera } from '../camera/camera.js';

/**
 * `facegate collect --attack TYPE | --bona-fide`: records presentations at the installer's own door, with the
 * door's own camera and light, in the layout `facegate evaluate-pad` reads:
 *   <data>/pad/bona-fide/<id>/000.jpg ...      a burst of a real person (key b), or <id>.jpg (key s)
 *   <data>/pad/attack/<TYPE>/<id>/000.jpg ...  a burst of an attack (a print, a phone, ...)
 * Whole frames are kept (not face crops): the liveness checks look at the face in the frame and its motion.
 * A burst is written into a hidden folder and renamed into place, so evaluate-pad never reads half of one.
 */

/** Attack type names become folder names: letters, digits, "-" and "_" only. */
export const ATTACK_TYPE = /^[a-z0-9][a-z0-9_-]{0,31}$/i;

export type PresentationTarget = { kind: 'bona-fide' } | { kind: 'attack'; type: string };

export interface RecordResult {
  path: string;
  frames: number;
  spanMs: number;
}

export class PresentationRecorder {
  count = 0;
  readonly folder: string;

  constructor(private readonly options: { camera: Camera; dataDir: string; target: PresentationTarget; burst: BurstRequest }) {
    const { target } = options;
    if (target.kind === 'attack' && !ATTACK_TYPE.test(target.type)) {
      throw new Error(`attack type "${target.type}" must be 1-32 letters, digits, "-" or "_" (it names a folder), e.g. print, phone, tablet`);
    }
    this.folder = target.kind === 'attack' ? join(options.dataDir, 'pad', 'attack', target.type) : join(options.dataDir, 'pad', 'bona-fide');
  }

  /** Creates the folder and counts the presentations already in it. */
  async open(): Promise<void> {
    await mkdir(this.folder, { recursive: true });
    this.count = (await readdir(this.folder)).filter((name) => !name.startsWith('.')).length;
  }

  /** One presentation: a burst as the door takes it (`burst`) or the newest frame alone (`single`). */
  async record(kind: 'burst' | 'single'): Promise<RecordResult> {
    const id = `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID().slice(0, 8)}`;
    if (kind === 'single') {
      const frame = await this.options.camera.grab();
      const path = join(this.folder, `${id}.jpg`);
      await writeFile(path, frame.data, { flag: 'wx' });
      this.count++;
      return { path, frames: 1, spanMs: 0 };
    }
    const frames = await this.options.camera.burst(this.options.burst);
    const hidden = join(this.folder, `.${id}.part`);
    await mkdir(hidden);
    for (const [i, frame] of frames.entries()) await writeFile(join(hidden, `${String(i).padStart(3, '0')}.jpg`), frame.data);
    const path = join(this.folder, id);
    await rename(hidden, path);
    this.count++;
    return { path, frames: frames.length, spanMs: frames[frames.length - 1]!.capturedAt - frames[0]!.capturedAt };
  }
}
