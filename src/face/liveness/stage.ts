import type { LivenessCheck, LivenessDeps, LivenessEntry, LivenessProbe, LivenessResult } from './check.js';

export type { LivenessCheck, LivenessDeps, LivenessEntry, LivenessProbe, LivenessResult } from './check.js';

/**
 * The liveness slot between align/crop and embed: the matcher never sees a face that a configured check
 * rejected. A check gets the probe (and, when the camera gave one, a burst of further frames) and returns
 * scores and a verdict. Checks live in this folder, one file each, and register in LIVENESS_CHECKS below;
 * `liveness.mode` names one of them (or "auto": burst on a streaming camera, off on the folder camera).
 */

/** No check: every face passes. Honest about it: the daemon and the state say so loudly. */
const off: LivenessCheck = {
  name: 'off',
  check: async () => ({ passed: true, scores: {} }),
};

function need(deps: LivenessDeps | undefined, name: string): LivenessDeps {
  if (!deps) throw new Error(`liveness check "${name}" needs the liveness settings and the face detector`);
  return deps;
}

export const LIVENESS_CHECKS = {
  off: { doc: 'no check; a single still frame cannot prove liveness', create: () => off },
  burst: {
    doc: 'a burst of frames must show a non-flat face (parallax against one homography) or eye/mouth motion, and must not be near-identical frames; ~400 ms of capture plus one detection per frame',
    // Loaded only when chosen: config reads this registry, and must not pull in image code to do so.
    create: async (deps?: LivenessDeps) => new (await import('./burst.js')).BurstCheck(need(deps, 'burst').settings, need(deps, 'burst').detector),
  },
  infrared: {
    doc: 'the burst alternates colour and 850 nm IR frames; a face dark and flat in IR is a screen; the colour frames also go through "burst"',
    create: async (deps?: LivenessDeps) => new (await import('./infrared.js')).InfraredCheck(need(deps, 'infrared').settings, need(deps, 'infrared').detector),
  },
} satisfies Record<string, LivenessEntry>;

export type LivenessKey = keyof typeof LIVENESS_CHECKS;
export const LIVENESS_KEYS = Object.keys(LIVENESS_CHECKS) as LivenessKey[];

export function livenessEntry(key: string): LivenessEntry {
  const entry = (LIVENESS_CHECKS as Record<string, LivenessEntry>)[key];
  if (!entry) throw new RangeError(`unknown liveness check "${key}" (known: ${LIVENESS_KEYS.join(', ')})`);
  return entry;
}

/**
 * Runs the checks in order and stops at the first failure; the scores of every check that ran are kept,
 * prefixed with the check's name when more than one ran.
 */
export async function runLiveness(checks: readonly LivenessCheck[], probe: LivenessProbe, signal?: AbortSignal): Promise<LivenessResult> {
  const scores: Record<string, number> = {};
  for (const check of checks) {
    if (check.burst === 'required' && !probe.burst?.length) {
      return { passed: false, scores, reason: `liveness check "${check.name}" needs a burst of frames and got a single frame: a single frame cannot show liveness` };
    }
    const result = await check.check(probe, signal);
    for (const [key, value] of Object.entries(result.scores)) scores[checks.length > 1 ? `${check.name}.${key}` : key] = value;
    if (!result.passed) return { passed: false, scores, reason: result.reason ?? `liveness check "${check.name}" failed` };
  }
  return { passed: true, scores };
}

/** The checks for a comma-separated list of keys, in order; "off" contributes none. */
export async function createLivenessChecks(keys: string, deps?: LivenessDeps): Promise<LivenessCheck[]> {
  const names = keys.split(',').map((k) => k.trim()).filter((k) => k !== '' && k !== 'off');
  return Promise.all(names.map((name) => livenessEntry(name).create(deps)));
}
