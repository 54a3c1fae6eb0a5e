import { readFile } from 'node:fs/promises';
import type { VerifyResult } from '../core/types.js';
import { commandSettings, errorMessage, splitArgs } from './args.js';

/**
 * facegate verify --image F [--json] [--model DIR]
 * Exit codes (documented in the README): 0 granted, 1 denied, 2 no face in the image,
 * 3 could not verify (unreadable image, empty gallery, broken model), 64 usage, 78 configuration.
 */
export const EXIT = { granted: 0, denied: 1, no_face: 2, error: 3, usage: 64 } as const;

const USAGE = `usage: facegate verify --image FILE [--json] [--model DIR] [--gallery DIR] [--config FILE]
  Verifies one image against everyone enrolled, as the door does.
  Exit code: 0 granted, 1 denied, 2 no face found, 3 could not verify (unreadable image, empty gallery, broken model).
  Any setting may follow as a flag (facegate config docs), e.g. --detection-threshold 0.9.`;

function fmt(n: number, digits = 3): string {
  return n.toFixed(digits);
}

export function printableResult(result: VerifyResult) {
  const { decision, identity, closest, fraction, meanScore, perIdentity, timings, backend, thresholds, face, reason, liveness } = result;
  return { decision, identity, closest: closest ?? null, fraction, meanScore, perIdentity, timings, backend, thresholds, face, ...(reason ? { reason } : {}), ...(liveness ? { liveness } : {}) };
}

function humanReadable(result: VerifyResult): string {
  const lines = [
    `${result.decision.toUpperCase()}${result.identity ? `: ${result.identity}` : ''}${result.reason ? ` (${result.reason})` : ''}`,
    `thresholds: detection ${result.thresholds.detection}, verification ${result.thresholds.verification}`,
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
  const { values, positionals, settingsArgs } = splitArgs(argv, { image: { type: 'string' }, json: { type: 'boolean' } });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (typeof values.image !== 'string' || positionals.length) {
    console.error(`facegate verify: ${positionals.length ? `unexpected argument "${positionals[0]}"` : '--image FILE is required'}\n${USAGE}`);
    return EXIT.usage;
  }
  const { settings, log } = commandSettings(values, settingsArgs);
  let image: Buffer;
  try {
    image = await readFile(values.image);
  } catch (error) {
    console.error(`facegate verify: cannot read image ${values.image}: ${errorMessage(error)}`);
    return EXIT.error;
  }
  let verifier;
  try {
    // Loaded here, not at the top: usage errors skip loading tfjs.
    const { createVerifier } = await import('../face/verifier.js');
    verifier = await createVerifier(settings, log);
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
      result = await verifier.verify(image);
    } catch (error) {
      console.error(`facegate verify: cannot verify ${values.image}: ${errorMessage(error)}`);
      return EXIT.error;
    }
    console.log(values.json ? JSON.stringify(printableResult(result)) : humanReadable(result));
    return EXIT[result.decision];
  } finally {
    await verifier.close();
  }
}
