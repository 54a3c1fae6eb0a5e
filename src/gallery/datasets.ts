import { readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { seededRandom, shuffle } from '../random.js';

/** A dataset of identity folders: `<dir>/<person>/<image>`. */
export interface Identity {
  name: string;
  /** Absolute or dir-joined image paths, sorted by file name so every run sees the same order. */
  images: string[];
}

export interface Pair {
  a: string;
  b: string;
  /** true = genuine (same person), false = impostor. */
  same: boolean;
}

export const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.pgm', '.bmp', '.tif', '.tiff']);

export function isImageFile(name: string): boolean {
  return IMAGE_EXTENSIONS.has(extname(name).toLowerCase()) && !name.startsWith('.');
}

/** Reads identity folders; hidden folders and non-image files are ignored. Throws when `dir` is not a folder. */
export function listIdentities(dir: string): Identity[] {
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a folder');
    names = readdirSync(dir);
  } catch (error) {
    throw new Error(`cannot read dataset folder ${dir}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const identities: Identity[] = [];
  for (const name of names.sort()) {
    if (name.startsWith('.')) continue;
    const folder = join(dir, name);
    if (!statSync(folder).isDirectory()) continue;
    const images = readdirSync(folder).filter(isImageFile).sort().map((file) => join(folder, file));
    if (images.length) identities.push({ name, images });
  }
  return identities;
}

export interface PairOptions {
  /** Genuine pairs per identity at most (all of them when it has fewer); as many impostor pairs as genuine ones. */
  pairsPerClass: number;
  seed: number;
}

/**
 * Balanced, deterministic pairs. For every identity with >= 2 images: up to `pairsPerClass` distinct genuine pairs,
 * and for each of them one impostor pair (one of this person's images against a random image of someone else).
 * The output is shuffled with the same seed so that folds (`i % k`) mix identities.
 */
export function makePairs(identities: Identity[], options: PairOptions): Pair[] {
  const random = seededRandom(options.seed);
  if (!(options.pairsPerClass >= 1)) throw new Error('pairsPerClass must be at least 1');
  const others = identities.filter((id) => id.images.length > 0);
  if (others.length < 2) throw new Error('need at least two identities to make impostor pairs');
  const pairs: Pair[] = [];
  const seen = new Set<string>();
  for (const identity of identities) {
    const n = identity.images.length;
    if (n < 2) continue;
    const all: Array<[number, number]> = [];
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) all.push([i, j]);
    const genuine = shuffle(all, random).slice(0, options.pairsPerClass);
    for (const [i, j] of genuine) pairs.push({ a: identity.images[i]!, b: identity.images[j]!, same: true });
    let made = 0;
    for (let attempt = 0; made < genuine.length && attempt < genuine.length * 20; attempt++) {
      const other = others[Math.floor(random() * others.length)]!;
      if (other.name === identity.name) continue;
      const a = identity.images[Math.floor(random() * n)]!;
      const b = other.images[Math.floor(random() * other.images.length)]!;
      const key = a < b ? `${a}\n${b}` : `${b}\n${a}`;
      if (seen.has(key)) continue;
      seen.add(key);
      pairs.push({ a, b, same: false });
      made++;
    }
  }
  if (!pairs.some((p) => p.same)) throw new Error('no identity has two images: cannot make genuine pairs');
  return shuffle(pairs, random);
}

/** Splits identities into two disjoint groups by name, seeded (e.g. train head / calibrate+evaluate). */
export function splitIdentities(identities: Identity[], firstFraction: number, seed: number): [Identity[], Identity[]] {
  const shuffled = shuffle(identities, seededRandom(seed));
  const cut = Math.round(shuffled.length * firstFraction);
  const byName = (a: Identity, b: Identity) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  return [shuffled.slice(0, cut).sort(byName), shuffled.slice(cut).sort(byName)];
}

/**
 * LFW `pairs.txt` / `pairsDevTrain.txt`: an optional header ("10 300" or "1100"), then genuine lines
 * `name i j` and impostor lines `name1 i name2 j`; image k of a person is `<dir>/<name>/<name>_<kkkk>.jpg`.
 */
export function parseLfwPairs(text: string, dir: string): Pair[] {
  const path = (name: string, index: string) => {
    if (!/^\d+$/.test(index)) throw new Error(`bad image number "${index}"`);
    return join(dir, name, `${name}_${index.padStart(4, '0')}.jpg`);
  };
  const pairs: Pair[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, lineIndex) => {
    const fields = raw.trim().split(/\s+/).filter(Boolean);
    if (fields.length === 0) return;
    try {
      if (fields.every((f) => /^\d+$/.test(f)) && fields.length <= 2 && pairs.length === 0) return; // header
      if (fields.length === 3) pairs.push({ a: path(fields[0]!, fields[1]!), b: path(fields[0]!, fields[2]!), same: true });
      else if (fields.length === 4) pairs.push({ a: path(fields[0]!, fields[1]!), b: path(fields[2]!, fields[3]!), same: false });
      else throw new Error(`expected "name i j" or "name1 i name2 j", got ${fields.length} fields`);
    } catch (error) {
      throw new Error(`pairs file line ${lineIndex + 1}: ${error instanceof Error ? error.message : String(error)}`);
    }
  });
  if (pairs.length === 0) throw new Error('pairs file holds no pairs');
  return pairs;
}
