import { FolderGalleryStore, folderGalleryDir, type FolderGallerySettings } from './folder-store.js';
import type { GalleryContext, GalleryStore } from './store.js';

/**
 * Every gallery store, by the key `gallery.store` takes (its choices come from here). Adding a store is one
 * file beside store.ts plus one line below; its settings slice joins GalleryStoreSettings.
 */
export type GalleryStoreSettings = FolderGallerySettings;

export interface GalleryStoreEntry {
  doc: string;
  create(settings: GalleryStoreSettings, context: GalleryContext): GalleryStore;
}

export const GALLERY_STORES = {
  folder: { doc: 'one folder of photos per person under gallery.dir, embedded once through the cache', create: (s, ctx) => new FolderGalleryStore(folderGalleryDir(s), ctx) },
} satisfies Record<string, GalleryStoreEntry>;

export type GalleryStoreKey = keyof typeof GALLERY_STORES;
export const GALLERY_STORE_KEYS = Object.keys(GALLERY_STORES) as GalleryStoreKey[];

export function galleryStoreEntry(key: string): GalleryStoreEntry {
  const entry = (GALLERY_STORES as Record<string, GalleryStoreEntry>)[key];
  if (!entry) throw new RangeError(`unknown gallery store "${key}" (known: ${GALLERY_STORE_KEYS.join(', ')})`);
  return entry;
}
