import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync, copyFileSync, fsyncSync, openSync, closeSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import type { Logger } from '../log.js';
import { CROP_MARKER, embedFiles, isFaceCropFile, sha256, type EmbeddingCache, type FacePipeline } from './cache.js';
import { isImageFile } from './datasets.js';

/**
 * The gallery: one folder per enrolled person holding their verification images (the seed's
 * `application_data/verification_images`, once per person). Folders starting with "." are work in progress
 * (an enrolment being written, or one being replaced) and are never read as people.
 */
export class GalleryError extends Error {
  override name = 'GalleryError';
}

export { CROP_MARKER, isFaceCropFile };

/** A person's name becomes a folder name: letters, digits, space, "_", "-", "." inside; no path tricks. */
export function validatePersonName(name: string): string {
  const trimmed = name.trim();
  if (!/^[\p{L}\p{N}][\p{L}\p{N} _.-]{0,63}$/u.test(trimmed) || trimmed.includes('..')) {
    throw new GalleryError(
      `invalid person name ${JSON.stringify(name)}: use 1-64 letters, digits, spaces, "_", "-" or "." starting with a letter or digit`,
    );
  }
  return trimmed;
}

export interface GalleryPerson {
  name: string;
  images: string[];
}

/**
 * Everyone enrolled, sorted by name. A missing gallery folder is an empty gallery. One bad entry (a dangling
 * symlink, an unreadable folder or image) is skipped with a warning naming it: it must not stop the door,
 * `verify` or `gallery list` for everyone else.
 */
export function listPeople(dir: string, log?: Pick<Logger, 'warn'>, skipped?: Array<{ file: string; reason: string }>): GalleryPerson[] {
  if (!existsSync(dir)) return [];
  const skip = (entry: string, error: unknown) => {
    const reason = error instanceof Error ? error.message : String(error);
    skipped?.push({ file: entry, reason });
    (log ?? stderrWarn).warn({ entry, reason }, 'gallery entry skipped');
  };
  const people: GalleryPerson[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith('.')) continue;
    const folder = join(dir, name);
    try {
      if (!statSync(folder).isDirectory()) continue;
      const images: string[] = [];
      for (const file of readdirSync(folder).filter(isImageFile).sort()) {
        const path = join(folder, file);
        try {
          if (statSync(path).isFile()) images.push(path);
          else skip(path, new Error('not a regular file'));
        } catch (error) {
          skip(path, error);
        }
      }
      people.push({ name, images });
    } catch (error) {
      skip(folder, error);
    }
  }
  return people;
}

const quiet: Pick<Logger, 'warn'> = { warn: () => {} };

/** Without a logger (`gallery list`, doctor) a skipped entry still gets a line on stderr. */
const stderrWarn: Pick<Logger, 'warn'> = {
  warn: ((fields: { entry: string; reason: string }, message: string) => {
    process.stderr.write(`facegate: ${message}: ${fields.entry}: ${fields.reason}\n`);
  }) as Logger['warn'],
};

export function removePerson(dir: string, name: string): void {
  const safe = validatePersonName(name);
  const folder = join(dir, safe);
  if (!existsSync(folder) || !statSync(folder).isDirectory()) {
    const known = listPeople(dir).map((p) => p.name);
    throw new GalleryError(`no enrolled person "${safe}" (enrolled: ${known.length ? known.join(', ') : 'nobody'})`);
  }
  // Rename first so the daemon never sees a half-deleted person, then delete.
  const trash = join(dir, `.removing-${safe}-${randomBytes(4).toString('hex')}`);
  renameSync(folder, trash);
  rmSync(trash, { recursive: true, force: true });
}

export interface NewImage {
  /** Where it came from (its base name is kept when free). */
  source: string;
  bytes: Buffer;
  /** Already a face crop (collect folder): stored with the crop marker so the gallery skips detection. */
  isCrop: boolean;
}

function syncFile(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Adds images to a person, all or nothing: the new folder (existing images + new ones) is written beside the
 * gallery under a hidden name and swapped in with renames. An error leaves the gallery exactly as it was.
 * Images already present (same bytes) are skipped. Returns the names of the files added.
 */
export function writePerson(dir: string, name: string, images: NewImage[]): string[] {
  const safe = validatePersonName(name);
  mkdirSync(dir, { recursive: true });
  const tag = randomBytes(4).toString('hex');
  const staging = join(dir, `.enrolling-${safe}-${tag}`);
  const target = join(dir, safe);
  const added: string[] = [];
  try {
    mkdirSync(staging);
    const known = new Set<string>();
    const used = new Set<string>();
    if (existsSync(target)) {
      for (const file of readdirSync(target)) {
        copyFileSync(join(target, file), join(staging, file));
        used.add(file);
        if (isImageFile(file)) known.add(sha256(readFileSync(join(target, file))));
      }
    }
    for (const image of images) {
      const hash = sha256(image.bytes);
      if (known.has(hash)) continue;
      known.add(hash);
      const ext = extname(image.source).toLowerCase() || '.jpg';
      let stem = basename(image.source, extname(image.source)).replace(/[^\w.-]+/g, '_').replace(/\.crop$/, '') || 'image';
      if (used.has(fileName(stem, image.isCrop, ext))) stem = `${stem}-${hash.slice(0, 8)}`;
      const file = fileName(stem, image.isCrop, ext);
      writeFileSync(join(staging, file), image.bytes);
      syncFile(join(staging, file));
      used.add(file);
      added.push(file);
    }
    if (existsSync(target)) {
      const old = join(dir, `.replacing-${safe}-${tag}`);
      renameSync(target, old);
      try {
        renameSync(staging, target);
      } catch (error) {
        renameSync(old, target);
        throw error;
      }
      rmSync(old, { recursive: true, force: true });
    } else {
      renameSync(staging, target);
    }
    return added;
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
}

function fileName(stem: string, isCrop: boolean, ext: string): string {
  return `${stem}${isCrop ? CROP_MARKER : ''}${ext}`;
}


/** One enrolled person's reference embeddings, ready for the head. */
export interface PersonEmbeddings {
  name: string;
  files: string[];
  embeddings: Float32Array[];
}

export interface LoadedGallery {
  people: PersonEmbeddings[];
  images: number;
  /** Images that were skipped (unreadable, corrupt, no face), with the reason. */
  skipped: Array<{ file: string; reason: string }>;
  /** Embeddings computed now (not found in the cache). */
  computed: number;
}

/**
 * Embeds every gallery image through the cache. Corrupt or faceless images are skipped with a warning, never
 * a crash; a person left with no usable image is dropped (and reported) so they can never match by accident.
 */
export async function loadGallery(dir: string, pipeline: FacePipeline, cache: EmbeddingCache, log?: Logger): Promise<LoadedGallery> {
  const skipped: LoadedGallery['skipped'] = [];
  const people = listPeople(dir, log ?? quiet, skipped);
  const files = people.flatMap((p) => p.images);
  const results = await embedFiles(files, pipeline, cache, log ? { log } : {});
  const computed = results.filter((r) => r.kind !== 'error' && !r.cached).length;
  const byFile = new Map(results.map((r) => [r.file, r]));
  const loaded: PersonEmbeddings[] = [];
  for (const person of people) {
    const entry: PersonEmbeddings = { name: person.name, files: [], embeddings: [] };
    for (const file of person.images) {
      const result = byFile.get(file);
      if (result?.kind === 'embedding') {
        entry.files.push(file);
        entry.embeddings.push(result.embedding);
      } else {
        const reason = result?.kind === 'error' ? result.error : 'no face found';
        skipped.push({ file, reason });
        log?.warn({ file, reason }, 'gallery image skipped');
      }
    }
    if (entry.embeddings.length) loaded.push(entry);
    else log?.warn({ person: person.name }, 'person has no usable gallery image and cannot be verified');
  }
  return { people: loaded, images: loaded.reduce((n, p) => n + p.embeddings.length, 0), skipped, computed };
}
