import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LivenessStatus, VerifyResult } from '../core/types.js';
import { isImageFile } from '../gallery/datasets.js';
import { commandSettings, errorMessage, splitArgs } from './args.js';

/**
 * facegate verify --image F [--json] [--model DIR]
 * Exit codes (documented in the README): 0 granted, 1 denied, 2 no face in the image,
 * 3 could not verify (unreadable image, empty gallery, broken model), 4 spoof (liveness failed), 64 usage, 78 configuration.
 */
export const EXIT = { granted: 0, denied: 1, no_face: 2, error: 3, spoof: 4, usage: 64 } as const;

const USAGE = `usage: facegate verify (--image FILE | --burst DIR | --image FILE --burst DIR) [--json] [--model DIR] [--config FILE]
  Verifies one image against everyone enrolled, as the door does.
  --burst DIR   a folder of consecutive frames (name order): the first (or --image) is verified, all of them go
                through the liveness checks ("burst" unless --liveness-mode says otherwise).
  A single image cannot show liveness: with liveness.mode "auto" it reports liveness "not_checked"; with
  "burst" or "infrared" it is refused as spoof.
  Exit code: 0 granted, 1 denied, 2 no face found, 3 could not verify (unreadable image, empty gallery, broken model), 4 spoof.
  Any setting may follow as a flag (facegate config docs), e.g. --detection-threshold 0.9.`;

function fmt(n: number, digits = 3): string {
  return n.toFixed(digits);
}

export function printableResult(result: VerifyResult) {
  const { decision, identity, closest, fraction, meanScore, perIdentity, timings, backend, thresholds, face, reason, liveness } = result;
  return { decision, identity, closest: closest ?? null, fraction, meanScore, perIdentity, timings, backend, thresholds, face, liveness: liveness ?? 'not_checked', ...(reason ? { reason } : {}) };
}

function humanReadable(result: VerifyResult): string {
  const liveness = result.liveness ?? 'not_checked';
  const lines = [
    `${result.decision.toUpperCase()}${result.identity ? `: ${result.identity}` : ''}${result.reason ? ` (${result.reason})` : ''}`,
    `thresholds: detection ${result.thresholds.detection}, verification ${result.thresholds.verification}`,
    liveness === 'not_checked'
      ? 'liveness: not checked (a single image cannot show it; give --burst DIR)'
      : `liveness (${liveness.mode}): ${liveness.passed ? 'passed' : 'FAILED'} ${JSON.stringify(liveness.scores)}`,
  ];
  for (const p of result.perIdentity.slice(0, 10)) {
    lines.push(`  ${p.identity.padEnd(24)} fraction ${fmt(p.fraction, 2)} (${p.detections}/${p.images})  mean score ${fmt(p.meanScore)}`);
  }
  if (result.perIdentity.length > 10) lines.push(`  ... and ${result.perIdentity.length - 10} more`);
  const t = result.timings;
  lines.push(`timings ms: decode ${fmt(t.decode, 1)}, detect ${fmt(t.detect, 1)}, align ${fmt(t.align ?? 0, 1)}, liveness ${fmt(t.liveness ?? 0, 1)}, embed ${fmt(t.embed, 1)}, compare ${fmt(t.compare, 1)}, total ${fmt(t.total, 1)} (${result.backend})`);
  return lines.join('\n');
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals, settingsArgs } = splitArgs(argv, { image: { type: 'string' }, burst: { type: 'string' }, json: { type: 'boolean' } });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const burstDir = typeof values.burst === 'string' ? values.burst : undefined;
  if ((typeof values.image !== 'string' && !burstDir) || positionals.length) {
    console.error(`facegate verify: ${positionals.length ? `unexpected argument "${positionals[0]}"` : '--image FILE is required (or --burst DIR)'}\n${USAGE}`);
    return EXIT.usage;
  }
  const { settings, log } = commandSettings(values, settingsArgs);
  let frames: Buffer[];
  try {
    frames = await readFrames(typeof values.image === 'string' ? values.image : undefined, burstDir);
  } catch (error) {
    console.error(`facegate verify: ${errorMessage(error)}`);
    return EXIT.error;
  }
  const [image, ...burst] = frames as [Buffer, ...Buffer[]];
  let verifier;
  try {
    // Loaded here, not at the top: usage errors skip loading tfjs.
    const { createVerifier } = await import('../face/verifier.js');
    verifier = await createVerifier(settings, log, { liveness: commandLiveness(settings.liveness, burstDir !== undefined) });
  } catch (error) {
    console.error(`facegate verify: cannot load the model or gallery: ${errorMessage(error)}`);
    return EXIT.error;
  }
  try {
    if (verifier.info().identities === 0) {
      console.error(`facegate verify: the gallery is empty (${settings.gallery.dir || `${settings.paths.data}/gallery`}): enrol someone first with facegate enroll NAME --images DIR`);
      return EXIT.error;
    }
    let result: VerifyResult;
    try {
      result = await verifier.verify(image, { burst });
    } catch (error) {
      console.error(`facegate verify: cannot verify ${values.image ?? burstDir}: ${errorMessage(error)}`);
      return EXIT.error;
    }
    console.log(values.json ? JSON.stringify(printableResult(result)) : humanReadable(result));
    return EXIT[result.decision];
  } finally {
    await verifier.close();
  }
}

/**
 * verify has no camera: "auto" means the burst check when a burst is given and no check for a single image
 * (reported as "not_checked"); an explicit mode is kept, so a single image is refused when liveness is required.
 */
export function commandLiveness(liveness: { mode: string; burst: { frames: number; durationMs: number } }, haveBurst: boolean): LivenessStatus {
  const mode = liveness.mode === 'auto' ? (haveBurst ? 'burst' : 'off') : liveness.mode;
  return { mode, burstFrames: mode === 'off' ? 1 : liveness.burst.frames, burstDurationMs: liveness.burst.durationMs };
}

/** --image, then the burst folder's images in name order (the first of them is the probe without --image). */
async function readFrames(imagePath: string | undefined, burstDir: string | undefined): Promise<Buffer[]> {
  const frames: Buffer[] = [];
  if (imagePath) {
    try {
      frames.push(await readFile(imagePath));
    } catch (error) {
      throw new Error(`cannot read image ${imagePath}: ${errorMessage(error)}`);
    }
  }
  if (burstDir) {
    let names: string[];
    try {
      names = (await readdir(burstDir)).filter(isImageFile).sort();
    } catch (error) {
      throw new Error(`cannot read burst folder ${burstDir}: ${errorMessage(error)}`);
    }
    if (names.length === 0) throw new Error(`burst folder ${burstDir} holds no images`);
    for (const name of names) frames.push(await readFile(join(burstDir, name)));
  }
  return frames;
}
