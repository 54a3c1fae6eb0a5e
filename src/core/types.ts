/** Plain data that leaves the model world: no tensors past this line. */

export type Decision = 'granted' | 'denied' | 'no_face' | 'error';

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
  /** Liveness checks (0 when none is configured). Optional like align. */
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

/** What the liveness checks said about the probe (face/liveness/stage.ts). */
export interface LivenessOutcome {
  passed: boolean;
  scores: Record<string, number>;
  reason?: string;
}

export interface VerifyResult {
  decision: Exclude<Decision, 'error'>;
  /** Who was let in: the granted person, else null (a denied attempt names nobody). */
  identity: string | null;
  /** The nearest enrolled person and their scores, also when denied (tuning, audit); null without a gallery or face. Always set by the real verifier; optional for fakes. */
  closest?: ClosestMatch | null;
  /** Present when a face was found and the liveness stage ran. */
  liveness?: LivenessOutcome;
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

/** What the door needs from the model world. */
export interface Verifier {
  verify(image: Buffer, options?: VerifyOptions): Promise<VerifyResult>;
  /** Re-reads the gallery (after enrol or remove), keeping cached embeddings. */
  reload(): Promise<GalleryInfo>;
  info(): GalleryInfo & { backend: string; healthy: boolean };
  close(): Promise<void>;
}
