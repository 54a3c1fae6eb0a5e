import { readFile } from 'node:fs/promises';
import { listPeople, loadGallery } from './gallery.js';
import type { GalleryContext, GalleryLoad, GalleryStore } from './store.js';

/** The settings slice a folder store reads (structurally the config's `gallery` and `paths`). */
export interface FolderGallerySettings {
  gallery: { dir: string };
  paths: { data: string };
}

/** The gallery folder: `gallery.dir`, or `<paths.data>/gallery` when empty. */
export function folderGalleryDir(settings: FolderGallerySettings): string {
  return settings.gallery.dir || `${settings.paths.data}/gallery`;
}

/**
 * The gallery as folders of photos, one per person (gallery.ts writes them atomically), embedded with the
 * verifier's pipeline through the on-disk cache: only new photos are embedded on a reload.
 */
export class FolderGalleryStore implements GalleryStore {
  readonly description: string;

  constructor(
    readonly dir: string,
    private readonly context: GalleryContext,
  ) {
    this.description = `folder ${dir}`;
  }

  async load(): Promise<GalleryLoad> {
    const { pipeline, cache, log } = this.context;
    const loaded = await loadGallery(this.dir, pipeline, cache, log);
    return {
      people: loaded.people.map(({ name, embeddings }) => ({ name, embeddings })),
      skipped: loaded.skipped.map(({ file, reason }) => ({ entry: file, reason })),
      computed: loaded.computed,
    };
  }

  /** The first readable photo of the first person who has one. */
  async samplePhoto(): Promise<Buffer | null> {
    for (const person of listPeople(this.dir, { warn: () => {} })) {
      for (const file of person.images) {
        try {
          return await readFile(file);
        } catch {
          // unreadable: try the next one
        }
      }
    }
    return null;
  }
}
