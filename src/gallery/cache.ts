import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import type { Logger } from '../log.js';

/**
 * Embeddings on disk, so a face is embedded once: the gallery's at enrolment, a dataset's on the first
 * evaluation. Entries live under `<root>/<namespace>/<sha256 of the image bytes>`. The namespace names
 * everything that changes an embedding (model fingerprint or tower id, crop, detector settings), so a model
 * change simply looks in another folder: stale embeddings are never read.
 */
export type CacheEntry = { kind: 'embedding'; embedding: Float32Array } | { kind: 'no_face' };

export function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * A short, filesystem-safe name for everything that determines an embedding. Keys are sorted at every depth.
 * (It used to pass the top-level keys as JSON.stringify's replacer, which is a whitelist at every depth: nested
 * fields such as crop.margin or a crop template never reached the hash, so a changed crop reused stale entries.)
 */
export function cacheNamespace(parts: Record<string, unknown>): string {
  return sha256(stableJson(parts)).slice(0, 24);
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export class EmbeddingCache {
  readonly dir: string;

  constructor(root: string, namespace: string, private readonly embeddingSize: number) {
    if (!/^[\w.-]+$/.test(namespace)) throw new Error(`bad cache namespace "${namespace}"`);
    this.dir = join(root, namespace);
  }

  private path(hash: string, kind: CacheEntry['kind']): string {
    return join(this.dir, `${hash}.${kind === 'embedding' ? 'f32' : 'noface'}`);
  }

  /** The cached entry, or null on a miss. A truncated or foreign file counts as a miss and is recomputed. */
  get(hash: string): CacheEntry | null {
    try {
      const bytes = readFileSync(this.path(hash, 'embedding'));
      if (bytes.length === this.embeddingSize * 4) {
        const embedding = new Float32Array(this.embeddingSize);
        new Uint8Array(embedding.buffer).set(bytes);
        return { kind: 'embedding', embedding };
      }
    } catch {
      // fall through: maybe it is a no-face entry
    }
    try {
      readFileSync(this.path(hash, 'no_face'));
      return { kind: 'no_face' };
    } catch {
      return null;
    }
  }

  /** Writes via a temporary file and rename, so a crash never leaves half an embedding behind. */
  set(hash: string, entry: CacheEntry): void {
    mkdirSync(this.dir, { recursive: true });
    const target = this.path(hash, entry.kind);
    const temp = `${target}.${randomBytes(4).toString('hex')}.tmp`;
    const bytes = entry.kind === 'embedding' ? new Uint8Array(entry.embedding.buffer, entry.embedding.byteOffset, entry.embedding.byteLength) : new Uint8Array(0);
    if (entry.kind === 'embedding' && entry.embedding.length !== this.embeddingSize) {
      throw new Error(`embedding has ${entry.embedding.length} values, the cache holds ${this.embeddingSize}`);
    }
    writeFileSync(temp, bytes);
    renameSync(temp, target);
  }

  clear(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Files whose name ends in this marker are already face crops (from `facegate collect`): no detection. */
export const CROP_MARKER = '.crop';

export function isFaceCropFile(file: string): boolean {
  return basename(file, extname(file)).endsWith(CROP_MARKER);
}

/** The model-world steps that turn image bytes into an embedding. Built by the verifier from its model. */
export interface FacePipeline {
  /** Decode, find the largest face, crop it for the tower. null = no face. Throws on an unreadable image. */
  faceCrop(bytes: Buffer, options?: { isCrop?: boolean }): Promise<import('../image/image.js').RgbImage | null>;
  /** One batched tower pass. */
  embed(faces: Array<import('../image/image.js').RgbImage>): Promise<Float32Array[]>;
}

export type FileEmbedding =
  | { file: string; hash: string; kind: 'embedding'; embedding: Float32Array; cached: boolean }
  | { file: string; hash: string; kind: 'no_face'; cached: boolean }
  | { file: string; hash: string | null; kind: 'error'; error: string };

export interface EmbedFilesOptions {
  log?: Logger;
  /** Faces per tower pass. */
  batchSize?: number;
  /** Called after each file with (done, total, computed so far). */
  onProgress?: (done: number, total: number, computed: number) => void;
}

/**
 * Embeds image files through the cache: hits cost one file read; misses are decoded, detected, cropped and
 * embedded in batches. An unreadable or corrupt image becomes an `error` entry (logged), never a crash.
 */
export async function embedFiles(files: string[], pipeline: FacePipeline, cache: EmbeddingCache, options: EmbedFilesOptions = {}): Promise<FileEmbedding[]> {
  const batchSize = options.batchSize ?? 8;
  const results: FileEmbedding[] = new Array(files.length);
  let pending: Array<{ index: number; hash: string; face: import('../image/image.js').RgbImage }> = [];
  let done = 0;
  let computed = 0;
  const flush = async () => {
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    const embeddings = await pipeline.embed(batch.map((p) => p.face));
    batch.forEach((p, k) => {
      const embedding = embeddings[k]!;
      cache.set(p.hash, { kind: 'embedding', embedding });
      results[p.index] = { file: files[p.index]!, hash: p.hash, kind: 'embedding', embedding, cached: false };
    });
    computed += batch.length;
    done += batch.length;
    options.onProgress?.(done, files.length, computed);
  };
  for (let index = 0; index < files.length; index++) {
    const file = files[index]!;
    let hash: string | null = null;
    try {
      const bytes = await readFile(file);
      hash = sha256(bytes);
      const hit = cache.get(hash);
      if (hit) {
        results[index] = hit.kind === 'embedding' ? { file, hash, kind: 'embedding', embedding: hit.embedding, cached: true } : { file, hash, kind: 'no_face', cached: true };
        done++;
        if (done % 250 === 0) options.onProgress?.(done, files.length, computed);
        continue;
      }
      const face = await pipeline.faceCrop(bytes, { isCrop: isFaceCropFile(file) });
      if (face === null) {
        cache.set(hash, { kind: 'no_face' });
        results[index] = { file, hash, kind: 'no_face', cached: false };
        done++;
        computed++;
        continue;
      }
      pending.push({ index, hash, face });
      if (pending.length >= batchSize) await flush();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      options.log?.warn({ file, err: message }, 'skipping an image that cannot be read');
      results[index] = { file, hash, kind: 'error', error: message };
      done++;
    }
  }
  await flush();
  return results;
}
