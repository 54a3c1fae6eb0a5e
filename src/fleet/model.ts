import { cacheNamespace } from '../gallery/cache.js';
import { towerKey } from '../face/pipeline.js';
import { fingerprint, readModelFiles } from '../model/io.js';

/**
 * Which embeddings a door can compare: those from the same tower with the same crop and preprocessing (the
 * head only compares them). So a site entry names its embedding space, and a door takes an entry only for its
 * own. With the frozen face-api tower a retrained head keeps the site gallery usable; a seed tower's
 * embeddings change with every training, so its space includes the model's fingerprint.
 */
export interface ModelIdentity {
  /** Opaque id of the embedding space. */
  space: string;
  /** For people: tower@fingerprint, as the door's state reports its model. */
  label: string;
}

export async function modelIdentity(modelDir: string): Promise<ModelIdentity> {
  const files = await readModelFiles(modelDir);
  if (!files.metadata) throw new Error(`${modelDir} has no facegate metadata: cannot tell which embeddings it makes`);
  const metadata = files.metadata;
  const modelFingerprint = await fingerprint(modelDir);
  const { inputSize, crop, preprocessing } = metadata;
  return {
    space: cacheNamespace({ tower: towerKey({ metadata }, modelFingerprint), inputSize, crop, preprocessing }),
    label: `${metadata.tower}@${modelFingerprint.slice(0, 12)}`,
  };
}
