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

export interface StageTimings {
  decode: number;
  detect: number;
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

export interface VerifyResult {
  decision: Exclude<Decision, 'error'>;
  /** Best-matching identity (also reported when denied, for the audit), or null. */
  identity: string | null;
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

/** What the door needs from the model world. */
export interface Verifier {
  verify(image: Buffer, options?: { signal?: AbortSignal; wantFaceJpeg?: boolean }): Promise<VerifyResult>;
  /** Re-reads the gallery (after enrol or remove), keeping cached embeddings. */
  reload(): Promise<GalleryInfo>;
  info(): GalleryInfo & { backend: string; healthy: boolean };
  close(): Promise<void>;
}
