/**
 * The `liveness` settings slice the checks are built from (structurally the config's `liveness`; the face
 * folder never imports config). Defaults, docs and measurements: src/config/liveness.ts.
 */
export interface LivenessSettings {
  mode: string;
  burst: { frames: number; durationMs: number; minFaces: number };
  still: { minChange: number };
  planar: { minResidual: number };
  motion: { minChange: number };
  infrared: { minRatio: number; minTexture: number };
}
