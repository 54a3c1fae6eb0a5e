import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { GalleryInfo, LivenessStatus, Verifier, VerifyResult } from '../../src/core/types.js';
import type { EnrolledPerson, GalleryStore } from '../../src/gallery/store.js';
import { decide, rankIdentities } from '../../src/face/match.js';

/**
 * A deterministic stand-in for the face model, for fleet tests that run many attempts on three doors: a
 * "photo" is a small file reading `face:<label>`, and its embedding is 16 numbers derived from the label. The
 * gallery comes from a GalleryStore exactly as the real verifier takes it (load() at reload), and the
 * decision is the real match stage's (decide/rankIdentities). Same label = a genuine pair; anything else not.
 */
export function tokenEmbedding(label: string): Float32Array {
  const digest = createHash('sha256').update(label).digest();
  return Float32Array.from({ length: 16 }, (_, i) => digest[i]! / 255);
}

export async function tokenEmbeddings(files: string[]): Promise<Float32Array[]> {
  return Promise.all(files.map(async (file) => tokenEmbedding((await readFile(file, 'utf8')).replace(/^face:/, '').trim())));
}

const thresholds = { detection: 0.5, verification: 0.5 };

export class TokenVerifier implements Verifier {
  private people: EnrolledPerson[] = [];
  constructor(private readonly store: GalleryStore) {}

  async reload(): Promise<GalleryInfo> {
    this.people = (await this.store.load()).people;
    return this.galleryInfo();
  }

  private galleryInfo(): GalleryInfo {
    return { identities: this.people.length, images: this.people.reduce((n, p) => n + p.embeddings.length, 0), model: 'token' };
  }

  info() {
    return { ...this.galleryInfo(), backend: 'token', healthy: true };
  }

  liveness(): LivenessStatus {
    return { mode: 'off', burstFrames: 1, burstDurationMs: 0 };
  }

  async verify(image: Buffer): Promise<VerifyResult> {
    const text = image.toString('utf8');
    const timings = { decode: 0, detect: 0, embed: 0, compare: 0, total: 0 };
    const base = { thresholds, timings, backend: 'token', face: null };
    if (!text.startsWith('face:')) return { ...base, decision: 'no_face', identity: null, fraction: 0, meanScore: 0, perIdentity: [], reason: 'no face found' };
    const probe = tokenEmbedding(text.slice(5).trim());
    const same = (e: Float32Array) => e.length === probe.length && e.every((v, i) => Math.abs(v - probe[i]!) < 1e-6);
    const perIdentity = rankIdentities(this.people.map((p) => {
      const detections = p.embeddings.filter(same).length;
      return { identity: p.name, fraction: detections / p.embeddings.length, meanScore: detections / p.embeddings.length, detections, images: p.embeddings.length };
    }));
    return { ...base, ...decide(perIdentity, thresholds), perIdentity, liveness: 'not_checked' };
  }

  async close(): Promise<void> {}
}

/** A door's own store with nobody in it (these doors take everyone from the site gallery). */
export const emptyStore: GalleryStore = { description: 'empty', load: async () => ({ people: [], skipped: [], computed: 0 }) };
