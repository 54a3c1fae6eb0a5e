import { RETRY_PADDING, type DetectorOptions, type FaceDetector, type VisionSettings } from './detector.js';

/**
 * Every face detector, by the key `vision.detector` takes. The config schema's choices, its doc text and the
 * CLI help come from here, so adding a detector is one file beside this one plus one line below. Entries
 * import their file lazily: listing the keys (config loading) never loads a network or TensorFlow.js.
 */
export interface DetectorEntry {
  /** Shown in the config docs and README table: what it is good for. */
  doc: string;
  create(settings: VisionSettings, options: DetectorOptions): Promise<FaceDetector>;
}

export const DETECTORS = {
  tiny: { doc: 'fast', create: async (s, o) => (await import('./faceapi.js')).createFaceApiDetector('tiny', s, o) },
  ssd: { doc: 'more accurate, slower', create: async (s, o) => (await import('./faceapi.js')).createFaceApiDetector('ssd', s, o) },
  blazeface: {
    doc: 'MediaPipe BlazeFace: fast, finds tight crops too, gives eye/nose/mouth keypoints',
    create: async (s, o) => (await import('./blazeface.js')).createBlazeFaceDetector({ minConfidence: s.minConfidence, retryPadding: RETRY_PADDING }, o),
  },
  'blazeface-landmarks68': {
    doc: "BlazeFace plus face-api's 68 landmarks on each face, for face-api's own square crop",
    create: async (s, o) =>
      (await import('./blazeface.js')).createBlazeFaceDetector({ minConfidence: s.minConfidence, retryPadding: RETRY_PADDING, landmarks68: o.landmarks ?? true }, o),
  },
  fixed: { doc: "the seed tutorial's fixed crop, no detection", create: async (s) => new (await import('./fixed.js')).FixedCropDetector(s.fixedCrop) },
} satisfies Record<string, DetectorEntry>;

export type DetectorKey = keyof typeof DETECTORS;
export const DETECTOR_KEYS = Object.keys(DETECTORS) as DetectorKey[];

/** `"tiny" (fast), "ssd" (...) or "fixed" (...)`: the registry as prose, for docs and help. */
export function detectorChoicesDoc(): string {
  const items = DETECTOR_KEYS.map((key) => `"${key}" (${DETECTORS[key].doc})`);
  return items.length > 1 ? `${items.slice(0, -1).join(', ')} or ${items.at(-1)}` : (items[0] ?? '');
}

export function detectorEntry(key: string): DetectorEntry {
  const entry = (DETECTORS as Record<string, DetectorEntry>)[key];
  if (!entry) throw new RangeError(`unknown face detector "${key}" (known: ${DETECTOR_KEYS.join(', ')})`);
  return entry;
}
