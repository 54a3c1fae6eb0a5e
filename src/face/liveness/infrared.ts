import type { FaceBox } from '../../core/types.js';
import type { RgbImage } from '../../image/image.js';
import type { FaceDetector } from '../detect/detector.js';
import { judgeBurst, trackFace } from './burst.js';
import { median } from './planar.js';
import type { LivenessSettings } from './settings.js';
import type { LivenessCheck, LivenessProbe, LivenessResult } from './check.js';

/**
 * The infrared check, for installers with a NoIR camera and an 850 nm illuminator pulsed on every other frame
 * (or a second, IR camera whose frames are interleaved into the burst): the burst alternates frames with the
 * illuminator off and on; which set is lit is read from their brightness (splitByIllumination). Phone and tablet screens emit no
 * infrared, so where the colour camera sees a face on a screen the IR frame is dark and flat; skin lit by the
 * illuminator is bright and shows eyes, nose and mouth. Measured per IR frame inside the probe's face box:
 *   ratio    mean IR brightness of the face region / mean of the whole IR frame  (>= infrared.minRatio)
 *   texture  standard deviation of the face region in grey levels                (>= infrared.minTexture)
 * medians over the IR frames. The colour frames still go through the burst check (a print reflects IR like
 * skin does, so IR alone does not stop prints).
 *
 * Assumes the IR frames see the scene from the colour camera's viewpoint (the same sensor, or a second camera
 * beside it registered to it); tested with frames made for the purpose, not with a real NoIR camera.
 */

function grey(img: RgbImage, i: number): number {
  return 0.299 * img.data[i * 3]! + 0.587 * img.data[i * 3 + 1]! + 0.114 * img.data[i * 3 + 2]!;
}

/** Face-region brightness ratio and texture of one IR frame. */
export function infraredPresence(ir: RgbImage, box: Omit<FaceBox, 'score'>): { ratio: number; texture: number } {
  let all = 0;
  for (let i = 0; i < ir.width * ir.height; i++) all += grey(ir, i);
  const x0 = Math.max(0, Math.floor(box.x));
  const y0 = Math.max(0, Math.floor(box.y));
  const x1 = Math.min(ir.width, Math.ceil(box.x + box.width));
  const y1 = Math.min(ir.height, Math.ceil(box.y + box.height));
  let sum = 0;
  let sumSq = 0;
  let n = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const v = grey(ir, y * ir.width + x);
      sum += v;
      sumSq += v * v;
      n++;
    }
  }
  if (n === 0 || all === 0) return { ratio: 0, texture: 0 };
  const mean = sum / n;
  return { ratio: mean / (all / (ir.width * ir.height)), texture: Math.sqrt(Math.max(0, sumSq / n - mean * mean)) };
}

function meanGrey(img: RgbImage): number {
  let sum = 0;
  for (let i = 0; i < img.width * img.height; i++) sum += grey(img, i);
  return sum / (img.width * img.height);
}

/**
 * Which frames were lit by the illuminator: the strobe is not synchronised with the press, so the parity is
 * read from the pictures: the brighter of the two interleaved sets (even / odd frames of the whole burst, the
 * press frame being frame 0) is the IR set. The burst check then follows the face through the other set.
 */
export function splitByIllumination(first: RgbImage, burst: readonly RgbImage[]): { ir: RgbImage[]; colour: RgbImage[] } {
  const all = [first, ...burst];
  const even = all.filter((_, i) => i % 2 === 0);
  const odd = all.filter((_, i) => i % 2 === 1);
  if (odd.length === 0) return { ir: [], colour: [] };
  const mean = (frames: RgbImage[]) => frames.reduce((sum, f) => sum + meanGrey(f), 0) / frames.length;
  // The press frame is the probe itself, so the colour set handed to the burst check never includes it.
  return mean(odd) >= mean(even) ? { ir: odd, colour: even.slice(1) } : { ir: even, colour: odd };
}

export class InfraredCheck implements LivenessCheck {
  readonly name = 'infrared';
  readonly burst = 'required';

  /** The door captures mode.ts framesFor('infrared'): twice the colour frames the burst check needs. */
  constructor(private readonly settings: LivenessSettings, private readonly detector: FaceDetector) {}

  async check(probe: LivenessProbe, signal?: AbortSignal): Promise<LivenessResult> {
    const { ir, colour } = splitByIllumination(probe.frame, probe.burst ?? []);
    if (ir.length === 0) return { passed: false, scores: { irFrames: 0 }, reason: 'infrared mode needs a burst alternating colour and IR frames; got a single frame' };
    const seen = ir.map((frame) => infraredPresence(frame, probe.box));
    const ratio = median(seen.map((s) => s.ratio));
    const texture = median(seen.map((s) => s.texture));
    const irScores = { irFrames: ir.length, irRatio: Math.round(ratio * 1000) / 1000, irTexture: Math.round(texture * 10) / 10 };
    if (ratio < this.settings.infrared.minRatio || texture < this.settings.infrared.minTexture) {
      return {
        passed: false, scores: irScores,
        reason: `the face seen in colour is dark or flat in infrared (ratio ${ratio.toFixed(2)} / ${this.settings.infrared.minRatio}, texture ${texture.toFixed(1)} / ${this.settings.infrared.minTexture}): a screen`,
      };
    }
    const colourVerdict = judgeBurst(probe, await trackFace(probe, colour, this.detector, signal), this.settings);
    return { ...colourVerdict, scores: { ...irScores, ...colourVerdict.scores } };
  }
}
