import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { isImageFile } from '../../gallery/datasets.js';
import { decodeImage } from '../../image/image.js';
import { findFace } from '../../face/detect/faces.js';
import type { FaceDetector } from '../../face/detect/detector.js';
import type { LivenessCheck } from '../../face/liveness/stage.js';
import type { PadSample } from './metrics.js';

/**
 * Presentations on disk, as `facegate evaluate-pad` and `facegate collect --attack` lay them out:
 *   an image file = a single-image presentation; a folder of images = a burst (frames in name order).
 * The bona fide folder holds presentations directly; the attack folder holds one sub-folder per attack type
 * (print, phone, ...) holding presentations; attack presentations directly in it count as type "attack".
 */

export interface Presentation {
  path: string;
  kind: 'single' | 'burst';
  frames: string[];
}

async function imagesIn(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => isImageFile(name) && !name.startsWith('.')).sort().map((name) => join(dir, name));
}

/** The presentations directly inside `dir`: its images (single) and its sub-folders of images (bursts). */
export async function listPresentations(dir: string): Promise<Presentation[]> {
  const out: Presentation[] = [];
  for (const name of (await readdir(dir)).sort()) {
    if (name.startsWith('.')) continue;
    const path = join(dir, name);
    const info = await stat(path);
    if (info.isFile() && isImageFile(name)) out.push({ path, kind: 'single', frames: [path] });
    else if (info.isDirectory()) {
      const frames = await imagesIn(path);
      if (frames.length > 0) out.push({ path, kind: 'burst', frames });
    }
  }
  return out;
}

/** Attack types (sub-folders holding presentations) and their presentations. */
export async function listAttackTypes(dir: string): Promise<Record<string, Presentation[]>> {
  const types: Record<string, Presentation[]> = {};
  const loose = (await listPresentations(dir)).filter((p) => p.kind === 'single');
  if (loose.length) types.attack = loose;
  for (const name of (await readdir(dir)).sort()) {
    const path = join(dir, name);
    if (name.startsWith('.') || !(await stat(path)).isDirectory()) continue;
    const inside = await listPresentations(path);
    // A folder of images only is an attack type of single images, not a burst, when it sits directly here.
    if (inside.length) types[basename(path)] = inside;
  }
  return types;
}

/** Runs the liveness check on one presentation: the first frame is the probe, the rest the burst. */
export async function judgePresentation(p: Presentation, detector: FaceDetector, check: LivenessCheck): Promise<PadSample & { reason?: string }> {
  const [first, ...rest] = await Promise.all(p.frames.map(async (f) => decodeImage(await readFile(f))));
  const face = await findFace(first!, detector);
  if (!face) return { score: null, passed: false, reason: 'no face' };
  // face (the tower's crop) is not used by the burst checks; the frame stands in for it.
  const verdict = await check.check({ face: first!, frame: first!, box: face.box, landmarks: face.landmarks, ...(rest.length ? { burst: rest } : {}) });
  return { score: verdict.scores.score ?? (verdict.passed ? 1 : 0), passed: verdict.passed, ...(verdict.reason ? { reason: verdict.reason } : {}) };
}
