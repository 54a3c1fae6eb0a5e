import type { EnrolledPerson, GalleryLoad, GalleryStore } from '../gallery/store.js';
import type { SiteStore } from './site-store.js';

/**
 * The site gallery as the verifier's GalleryStore, in front of this door's own store (its photo folder). The
 * site decides about every name it knows: its entry replaces a local person of the same name, and a name it
 * revoked, or keeps for other doors, is withheld here even when this door still has photos of them. So
 * revoking someone site-wide also silences a forgotten local copy. Everyone else comes from the local store.
 */
export class SiteGalleryStore implements GalleryStore {
  readonly description: string;

  constructor(private readonly site: SiteStore, private readonly local: GalleryStore) {
    this.description = `site gallery + ${local.description}`;
  }

  async load(): Promise<GalleryLoad> {
    const local = await this.local.load();
    const { people, decides } = this.site.snapshot();
    const withheld = local.people.filter((p) => decides.has(p.name));
    const merged: EnrolledPerson[] = [...local.people.filter((p) => !decides.has(p.name)), ...people];
    merged.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return {
      people: merged,
      skipped: [...local.skipped, ...withheld.map((p) => ({ entry: p.name, reason: 'local copy replaced or withheld by the site gallery' }))],
      computed: local.computed,
    };
  }

  samplePhoto(): Promise<Buffer | null> {
    return this.local.samplePhoto?.() ?? Promise.resolve(null);
  }
}
