import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Settings } from '../config/index.js';
import type { Logger } from '../log.js';
import type { FaceDetector } from '../face/detect/faces.js';
import type { RgbImage } from '../image/image.js';
import { augmentAll } from './augment.js';
import { isFaceCropFile, sha256, type FacePipeline } from '../gallery/cache.js';
import { isImageFile, listIdentities, makePairs, splitIdentities } from '../gallery/datasets.js';
import { seededRandom, shuffle } from '../random.js';
import { DATASET_CACHE_DIR, embedDataset } from '../evaluation/evaluate.js';
import type { SiameseModel } from '../model/model.js';
import { towerKind } from '../model/tower-registry.js';
import { modelPipeline, towerKey } from '../face/pipeline.js';

/**
 * The data side of `facegate train`: folders on disk -> face crops (or cached embeddings) -> labelled index
 * pairs split into train and held-out. Two ways in: the seed tutorial's anchor/positive/negative folders, and
 * identity folders (LFW-style) with seeded balanced pairs. No tensors here; the run (train-run.ts) makes them.
 */

/** The seed's way: (anchor, positive) = 1 and (anchor, negative) = 0. */
export interface SeedWayData {
  kind: 'seed';
  anchor: string;
  positive: string;
  negative: string;
  /** Pairs of each label at most (the seed's take(300)). */
  perClass: number;
  /** Augmented variants per anchor/positive image. */
  augment: number;
}

/** Folders of people -> identity-disjoint split -> genuine and impostor pairs. */
export interface IdentityData {
  kind: 'identities';
  dir: string;
  pairsPerClass: number;
}

/** The request fields data preparation depends on (a TrainRequest has them all). */
export interface DataOptions {
  /** Seeds the split, shuffles and augmentation. */
  seed: number;
  /** Fraction of pairs (seed way) or people (identities) to train on. */
  split: number;
  /** false: every image is a face crop already. */
  detect: boolean;
}

/** Where data preparation reports its phases; the command shows them on stderr. */
export interface DataProgress {
  phase(text: string): void;
  count(what: string, done: number, total: number): void;
}

export interface PreparedPairs<T> {
  items: T[];
  pairs: Array<[number, number]>;
  labels: Uint8Array;
  train: number[];
  heldOut: number[];
  skipped: number;
  /** Identifies the data for resuming. */
  fingerprint: string;
}

/** Images under a folder, recursively (the seed's negatives may be LFW's identity folders), sorted. */
async function listImages(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    throw new Error(`cannot read image folder ${dir}: ${error.code === 'ENOENT' ? 'it does not exist' : error.message}`);
  });
  const files: string[] = [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (entry.name.startsWith('.')) continue;
    if (entry.isDirectory()) files.push(...(await listImages(join(dir, entry.name))));
    else if (isImageFile(entry.name)) files.push(join(dir, entry.name));
  }
  return files;
}

/** Decodes and crops images until `want` faces are found; a file without a face or unreadable is skipped. */
async function loadFaces(files: string[], want: number, pipeline: FacePipeline, detect: boolean, log: Logger): Promise<{ faces: RgbImage[]; used: string[]; skipped: number }> {
  const faces: RgbImage[] = [];
  const used: string[] = [];
  let skipped = 0;
  for (const file of files) {
    if (faces.length >= want) break;
    try {
      const face = await pipeline.faceCrop(await readFile(file), { isCrop: !detect || isFaceCropFile(file) });
      if (face) {
        faces.push(face);
        used.push(file);
      } else skipped++;
    } catch (error) {
      skipped++;
      log.warn({ file, err: (error as Error).message }, 'skipping an image that cannot be read');
    }
  }
  return { faces, used, skipped };
}

/** A seeded split of pair indices that always leaves at least one pair on each side. */
function splitPairs(count: number, split: number, seed: number): { train: number[]; heldOut: number[] } {
  const order = shuffle(Array.from({ length: count }, (_, i) => i), seededRandom(seed + 31));
  const cut = Math.min(count - 1, Math.max(1, Math.round(count * split)));
  return { train: order.slice(0, cut), heldOut: order.slice(cut) };
}

/** The seed's pairs: anchor i with positive i (1) and with negative i (0), after augmenting the collected images. */
export async function seedWayPairs(data: SeedWayData, options: DataOptions, pipeline: FacePipeline, ui: DataProgress, log: Logger): Promise<PreparedPairs<RgbImage>> {
  const lists = await Promise.all([data.anchor, data.positive, data.negative].map(listImages));
  const names = ['anchor', 'positive', 'negative'];
  lists.forEach((list, k) => {
    if (list.length === 0) throw new Error(`no images in the ${names[k]} folder ${[data.anchor, data.positive, data.negative][k]}`);
  });
  const shuffled = lists.map((list, k) => shuffle(list, seededRandom(options.seed + k)));
  let skipped = 0;
  const pools: RgbImage[][] = [];
  for (const k of [0, 1]) {
    ui.phase(`cropping up to ${data.perClass} ${names[k]} images and making ${data.augment} variants of each`);
    const loaded = await loadFaces(shuffled[k]!, data.perClass, pipeline, options.detect, log);
    skipped += loaded.skipped;
    const variants = data.augment > 0 ? await augmentAll(loaded.faces, options.seed + 11 + k, data.augment) : [];
    pools.push(shuffle([...loaded.faces, ...variants], seededRandom(options.seed + 21 + k)).slice(0, data.perClass));
  }
  ui.phase(`cropping up to ${data.perClass} negative images`);
  const negatives = await loadFaces(shuffled[2]!, data.perClass, pipeline, options.detect, log);
  skipped += negatives.skipped;
  const n = Math.min(data.perClass, pools[0]!.length, pools[1]!.length, negatives.faces.length);
  if (n < 2) throw new Error(`too few usable images: ${pools[0]!.length} anchor, ${pools[1]!.length} positive, ${negatives.faces.length} negative faces (need 2 of each)`);
  const items = [...pools[0]!.slice(0, n), ...pools[1]!.slice(0, n), ...negatives.faces.slice(0, n)];
  const pairs: Array<[number, number]> = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    pairs.push([i, n + i], [i, 2 * n + i]);
    labels.push(1, 0);
  }
  return { items, pairs, labels: Uint8Array.from(labels), ...splitPairs(pairs.length, options.split, options.seed), skipped, fingerprint: sha256(JSON.stringify(lists)) };
}

/**
 * Identity folders -> identity-disjoint train/held-out people -> seeded balanced pairs -> faces or embeddings.
 * A pretrained tower is frozen, so its embeddings come from the dataset cache instead of being recomputed.
 */
export async function identityPairs(data: IdentityData, options: DataOptions, model: SiameseModel, detector: FaceDetector, settings: Settings, ui: DataProgress, log: Logger): Promise<PreparedPairs<RgbImage | Float32Array>> {
  const identities = listIdentities(data.dir);
  const [trainIds, heldIds] = splitIdentities(identities, options.split, options.seed);
  const trainPairs = makePairs(trainIds, { pairsPerClass: data.pairsPerClass, seed: options.seed });
  const heldPairs = makePairs(heldIds, { pairsPerClass: data.pairsPerClass, seed: options.seed + 1 });
  const files = [...new Set([...trainPairs, ...heldPairs].flatMap((p) => [p.a, p.b]))];
  const index = new Map<string, number>();
  const items: Array<RgbImage | Float32Array> = [];
  let skipped = 0;
  if (towerKind(model.metadata.tower).load) {
    ui.phase(`embedding ${files.length} images (cached in ${DATASET_CACHE_DIR}: seconds after the first run)`);
    const embedded = await embedDataset(model, detector, towerKey(model, ''), settings.vision, files, { log, onProgress: (done, total) => ui.count('embedded', done, total) });
    for (const [file, entry] of embedded.byFile) {
      if (entry.kind === 'embedding') index.set(file, items.push(entry.embedding) - 1);
      else skipped++;
    }
  } else {
    const pipeline = modelPipeline(model, detector);
    for (const [k, file] of files.entries()) {
      const loaded = await loadFaces([file], 1, pipeline, options.detect, log);
      if (loaded.faces[0]) index.set(file, items.push(loaded.faces[0]) - 1);
      else skipped++;
      if (k % 100 === 99) ui.count('cropped', k + 1, files.length);
    }
  }
  // Pairs whose images gave no face are dropped; the rest keep their train/held-out side.
  const pairs: Array<[number, number]> = [];
  const labels: number[] = [];
  const train: number[] = [];
  const heldOut: number[] = [];
  for (const [group, list] of [[train, trainPairs], [heldOut, heldPairs]] as const) {
    for (const pair of list) {
      const a = index.get(pair.a);
      const b = index.get(pair.b);
      if (a === undefined || b === undefined) continue;
      group.push(pairs.push([a, b]) - 1);
      labels.push(pair.same ? 1 : 0);
    }
  }
  return { items, pairs, labels: Uint8Array.from(labels), train, heldOut, skipped, fingerprint: sha256(JSON.stringify(files)) };
}
