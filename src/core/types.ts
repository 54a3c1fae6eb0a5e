/** Plain data that leaves the model world: no tensors past this line. */

/**
 * How an attempt ended. `spoof`: a liveness check found a presentation attack (a photo, a screen); it counts
 * towards the lockout like `denied`, and the face never reached the matcher.
 */
export const DECISIONS = ['granted', 'denied', 'no_face', 'spoof', 'error'] as const;
export type Decision = (typeof DECISIONS)[number];

export interface FaceBox {
  x: number;
  y: number;
  width: number;
  height: number;
  score: number;
}

export interface IdentityScore {
  identity: string;
  /** Fraction of this person's verification images whose score passed the detection threshold. */
  fraction: number;
  meanScore: number;
  detections: number;
  images: number;
}

/** Milliseconds per stage of the face pipeline (face/verifier.ts), in the order they run. */
export interface StageTimings {
  decode: number;
  detect: number;
  /** Align/crop: the detected face cut out for the tower. Optional only so that verifier fakes may omit it. */
  align?: number;
  /** The liveness checks (burst frames decoded, tracked and judged); absent or 0 when none ran. Optional like align. */
  liveness?: number;
  embed: number;
  compare: number;
  total: number;
}

export interface Thresholds {
  /** A pair passes when head score > detection. */
  detection: number;
  /** A person is verified when passing fraction > verification. */
  verification: number;
}

/** The nearest enrolled person, whatever the decision: a diagnostic, never a claim of who was at the door. */
export interface ClosestMatch {
  identity: string;
  fraction: number;
  meanScore: number;
}

/** What the liveness checks said about the probe (face/liveness/stage.ts), under the mode in force. */
export interface LivenessOutcome {
  mode: string;
  passed: boolean;
  scores: Record<string, number>;
  reason?: string;
}

/**
 * The liveness stage's answer for an attempt: "not_checked" when no check ran (liveness off, or a single image
 * with mode auto), else the outcome. A failed outcome makes the decision `spoof`.
 */
export type LivenessReport = 'not_checked' | LivenessOutcome;

export interface VerifyResult {
  decision: Exclude<Decision, 'error'>;
  /** Who was let in: the granted person, else null (a denied attempt names nobody). */
  identity: string | null;
  /** The nearest enrolled person and their scores, also when denied (tuning, audit); null without a gallery or face. Always set by the real verifier; optional for fakes. */
  closest?: ClosestMatch | null;
  /** "not_checked" or what the checks said; absent only without a face (and in fakes). */
  liveness?: LivenessReport;
  fraction: number;
  meanScore: number;
  perIdentity: IdentityScore[];
  thresholds: Thresholds;
  face: FaceBox | null;
  /** Why the decision was made when it is not obvious: "gallery is empty", "no face found". */
  reason?: string;
  timings: StageTimings;
  backend: string;
  /** JPEG of the probe face crop, when asked for (snapshots, audit). */
  faceJpeg?: Buffer;
}

export interface GalleryInfo {
  identities: number;
  images: number;
  model: string;
}

export interface VerifyOptions {
  signal?: AbortSignal;
  wantFaceJpeg?: boolean;
  /** Further encoded frames of a burst (oldest first) for liveness checks that look at motion; optional. */
  burst?: Buffer[];
}

export interface LivenessStatus {
  mode: string;
  /** Frames the door should capture per attempt (1 = a single grab). */
  burstFrames: number;
  burstDurationMs: number;
  /** Why liveness is off or weak, when it is: shown at start and in the state. */
  warning?: string;
}

/** What the door needs from the model world. */
export interface Verifier {
  /** `burst`: further encoded frames after `image` (the camera's burst) for the liveness checks. */
  verify(image: Buffer, options?: VerifyOptions): Promise<VerifyResult>;
  /** The liveness mode in force and, when it is off, why (for the status and the start-up warning). */
  liveness(): LivenessStatus;
  /** Re-reads the gallery (after enrol or remove), keeping cached embeddings. */
  reload(): Promise<GalleryInfo>;
  info(): GalleryInfo & { backend: string; healthy: boolean };
  close(): Promise<void>;
}
