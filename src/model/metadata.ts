import type { Thresholds } from '../core/types.js';
import { DEFAULT_TOWER, isTowerId, TOWER_IDS, TOWERS, type TowerId } from './tower-registry.js';
import { PREPROCESSING, type Preprocessing } from './towers.js';

/**
 * Facegate's part of model.json (`userDefinedMetadata.facegate`): everything the verifier, trainer and
 * gallery cache must know about a model instead of guessing it.
 */
export interface FacegateMetadata {
  format: 1;
  tower: TowerId;
  /** Side of the square face crop the tower takes. */
  inputSize: number;
  embeddingSize: number;
  preprocessing: Preprocessing;
  crop: CropSpec;
  /**
   * Embed each face and its mirror image, and use the unit-length sum of the two embeddings. Absent = false
   * (models written before it). Measured with face-api's ResNet on lfw-dev (bench/mirror-average.ts): L1 EER
   * 1.45 -> 1.06 %, for one more tower pass per face (models/README.md).
   */
  flipAverage?: boolean;
  /**
   * The face detector this model's embeddings were made with (a key of face/detect/registry.ts). Absent in
   * models written before detectors were part of the model: they use `vision.detector` from the settings.
   */
  detector?: string;
  thresholds: Thresholds;
  /** Open-set calibration: the detection threshold grows with the household so the door's FAR does not. */
  openSet?: OpenSetCalibration;
  /** Free-form provenance: data, epochs, seed, metrics. */
  training: Record<string, unknown>;
  /** ISO time the model was written. */
  created: string;
}

export const METADATA_FORMAT = 1;

/** Where each keypoint lands in the crop, in fractions of its side (see face/align/similarity.ts). */
export interface CropTemplate {
  leftEye: { x: number; y: number };
  rightEye: { x: number; y: number };
  nose: { x: number; y: number };
  mouth: { x: number; y: number };
}

/**
 * How the tower's face crop is cut. margin/align: a square from the 68 landmarks or the detector box.
 * template: a similarity transform putting the detector's keypoints on these positions (5-point style
 * alignment); used when the detector gives keypoints, and then it wins over margin/align.
 */
export interface CropSpec {
  margin: number;
  align: boolean;
  template?: CropTemplate;
}

/**
 * Per-person FAR (one claim: a stranger against one enrolled person, at the model's verification threshold)
 * against detection threshold, measured on held-out identities. A door with n people enrolled lets a stranger
 * in when any of them matches, so its FAR is about n times the per-person FAR: the verifier picks the
 * threshold whose per-person FAR is doorFar / n (face/match.ts householdDetection()).
 */
export interface OpenSetCalibration {
  /** The door's FAR bar for the whole household. */
  doorFar: number;
  /** Strictly decreasing far, non-decreasing detection. */
  curve: Array<{ far: number; detection: number }>;
}

/** Raised for metadata that cannot be trusted; io.ts wraps it into a ModelLoadError with the path. */
export class MetadataError extends Error {
  override name = 'MetadataError';
  constructor(
    message: string,
    /** The offending field, e.g. 'tower' or 'thresholds.detection'. */
    readonly field: string,
  ) {
    super(message);
  }
}

/**
 * What the seed implies when a Keras-converted model carries no facegate metadata: 100 px input scaled
 * by 1/255, and the seed's `verify(model, 0.5, 0.5)` thresholds.
 */
export function seedDefaults(overrides: Partial<FacegateMetadata> = {}): FacegateMetadata {
  return {
    format: METADATA_FORMAT,
    tower: 'seed',
    inputSize: 100,
    embeddingSize: 4096,
    preprocessing: 'scale-255',
    crop: { margin: 0, align: false },
    thresholds: { detection: 0.5, verification: 0.5 },
    training: { source: 'seed defaults (no facegate metadata in model.json)' },
    created: new Date(0).toISOString(),
    ...overrides,
  };
}

/**
 * A fresh model's metadata for a tower, its shape taken from the tower registry. Shared by `facegate train`
 * and scripts/make-default-model.ts so the two never describe a tower differently.
 */
export function towerDefaults(tower: TowerId = DEFAULT_TOWER, overrides: Partial<FacegateMetadata> = {}): FacegateMetadata {
  const { inputSize, embeddingSize, preprocessing } = TOWERS[tower];
  return {
    format: METADATA_FORMAT,
    tower,
    inputSize,
    embeddingSize,
    preprocessing,
    crop: { margin: 0, align: false },
    thresholds: { detection: 0.5, verification: 0.5 },
    training: {},
    created: new Date(0).toISOString(),
    ...overrides,
  };
}

/** The default (pretrained face-api) tower's fresh metadata; kept under its old name for scripts and tests. */
export function faceApiDefaults(overrides: Partial<FacegateMetadata> = {}): FacegateMetadata {
  return towerDefaults(DEFAULT_TOWER, overrides);
}

function fail(field: string, why: string): never {
  throw new MetadataError(`facegate metadata: ${field || 'value'} ${why}`, field);
}

function fraction(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) fail(field, `must be a number in [0, 1], got ${JSON.stringify(value)}`);
  return value;
}

function positiveInt(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) fail(field, `must be a positive integer, got ${JSON.stringify(value)}`);
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Validates untrusted JSON into metadata; every problem names its field. */
export function parseMetadata(raw: unknown): FacegateMetadata {
  if (!isObject(raw)) fail('', 'must be an object');
  if (raw.format !== METADATA_FORMAT) fail('format', `must be ${METADATA_FORMAT}, got ${JSON.stringify(raw.format)} (written by a newer facegate?)`);
  const tower = raw.tower;
  if (!isTowerId(tower)) fail('tower', `is unknown: ${JSON.stringify(tower)} (known: ${TOWER_IDS.join(', ')})`);
  const preprocessing = raw.preprocessing;
  if (!(PREPROCESSING as readonly unknown[]).includes(preprocessing)) fail('preprocessing', `must be one of ${PREPROCESSING.join(', ')}, got ${JSON.stringify(preprocessing)}`);
  const crop = isObject(raw.crop) ? raw.crop : fail('crop', 'must be an object {margin, align}');
  const margin = crop.margin;
  if (typeof margin !== 'number' || !Number.isFinite(margin) || margin < 0) fail('crop.margin', `must be a number >= 0, got ${JSON.stringify(margin)}`);
  if (typeof crop.align !== 'boolean') fail('crop.align', `must be true or false, got ${JSON.stringify(crop.align)}`);
  const template = crop.template === undefined ? undefined : parseTemplate(crop.template);
  const detector = raw.detector;
  if (detector !== undefined && (typeof detector !== 'string' || !/^[\w.+-]+$/.test(detector))) {
    fail('detector', `must be a detector key such as "blazeface", got ${JSON.stringify(detector)} (leave it out for the settings' vision.detector)`);
  }
  const openSet = raw.openSet === undefined ? undefined : parseOpenSet(raw.openSet);
  if (raw.flipAverage !== undefined && typeof raw.flipAverage !== 'boolean') fail('flipAverage', `must be true or false, got ${JSON.stringify(raw.flipAverage)}`);
  const thresholds = isObject(raw.thresholds) ? raw.thresholds : fail('thresholds', 'must be an object {detection, verification}');
  const training = raw.training === undefined ? {} : isObject(raw.training) ? raw.training : fail('training', 'must be an object');
  const created = typeof raw.created === 'string' ? raw.created : fail('created', 'must be an ISO date string');
  return {
    format: METADATA_FORMAT,
    tower,
    inputSize: positiveInt(raw.inputSize, 'inputSize'),
    embeddingSize: positiveInt(raw.embeddingSize, 'embeddingSize'),
    preprocessing: preprocessing as Preprocessing,
    crop: { margin, align: crop.align, ...(template ? { template } : {}) },
    ...(raw.flipAverage === true ? { flipAverage: true } : {}),
    ...(typeof detector === 'string' ? { detector } : {}),
    thresholds: {
      detection: fraction(thresholds.detection, 'thresholds.detection'),
      verification: fraction(thresholds.verification, 'thresholds.verification'),
    },
    ...(openSet ? { openSet } : {}),
    training,
    created,
  };
}

function parseTemplate(raw: unknown): CropTemplate {
  if (!isObject(raw)) fail('crop.template', 'must be an object {leftEye, rightEye, nose, mouth}');
  const point = (name: keyof CropTemplate) => {
    const p = raw[name];
    if (!isObject(p)) fail(`crop.template.${name}`, 'must be an object {x, y}');
    return { x: fraction(p.x, `crop.template.${name}.x`), y: fraction(p.y, `crop.template.${name}.y`) };
  };
  return { leftEye: point('leftEye'), rightEye: point('rightEye'), nose: point('nose'), mouth: point('mouth') };
}

function parseOpenSet(raw: unknown): OpenSetCalibration {
  if (!isObject(raw) || !Array.isArray(raw.curve) || raw.curve.length === 0) fail('openSet', 'must be an object {doorFar, curve: [{far, detection}, ...]}');
  const curve = raw.curve.map((point: unknown, i) => {
    if (!isObject(point)) fail(`openSet.curve[${i}]`, 'must be an object {far, detection}');
    return { far: fraction(point.far, `openSet.curve[${i}].far`), detection: fraction(point.detection, `openSet.curve[${i}].detection`) };
  });
  curve.forEach((point, i) => {
    const prev = curve[i - 1];
    if (prev && !(point.far < prev.far && point.detection >= prev.detection)) fail(`openSet.curve[${i}]`, 'must have decreasing far and non-decreasing detection');
  });
  return { doorFar: fraction(raw.doorFar, 'openSet.doorFar'), curve };
}
