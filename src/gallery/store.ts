import type { Logger } from '../log.js';
import type { EmbeddingCache, FacePipeline } from './cache.js';

/**
 * Where enrolled people come from. The verifier sees people as names with embeddings and never asks how they
 * were made: today's folder of photos embedded through the on-disk cache (folder-store.ts) is one store; a
 * fleet/site store holding embeddings only, made by a known model, is another. A store is one file beside
 * this one plus one line in stores.ts.
 */

/** An enrolled person as the matcher sees them. */
export interface EnrolledPerson {
  name: string;
  /** Reference embeddings, all of the verifier's model (see GalleryContext.modelKey). */
  embeddings: Float32Array[];
  /** Door ids this person may open; absent = every door using this store. */
  doors?: readonly string[];
}

export interface GalleryLoad {
  people: EnrolledPerson[];
  /** Entries left out (unreadable or corrupt photo, no face, embeddings of another model), with the reason. */
  skipped: Array<{ entry: string; reason: string }>;
  /** Embeddings computed during this load (0 for a store of embeddings). */
  computed: number;
}

export interface GalleryStore {
  /** For logs and status, e.g. "folder /var/lib/facegate/gallery". */
  readonly description: string;
  /** Everyone who may be matched. Bad entries are skipped (and reported), never thrown: one file must not stop the door. */
  load(): Promise<GalleryLoad>;
  /** One enrolled photo, to warm the whole attempt path up; absent or null for a store without photos. */
  samplePhoto?(): Promise<Buffer | null>;
}

/** What any store may need from the verifier's side to hand out embeddings of the right model. */
export interface GalleryContext {
  /** Turns photo bytes into embeddings with the verifier's model (stores of photos). */
  pipeline: FacePipeline;
  /** The on-disk embedding cache for this model/detector/crop. */
  cache: EmbeddingCache;
  /** Names the model embeddings must have been made with (tower key + weights); a store of embeddings compares it. */
  modelKey: string;
  log?: Logger;
}
