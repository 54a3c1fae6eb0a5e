import { existsSync, readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { galleryDir } from '../config/index.js';
import { isImageFile } from '../gallery/datasets.js';
import { GalleryError, isFaceCropFile, listPeople, validatePersonName, writePerson, type NewImage } from '../gallery/gallery.js';
import type { FacePipeline } from '../gallery/cache.js';
import type { Settings } from '../config/index.js';
import type { Logger } from '../log.js';
import { commandSettings, errorMessage, splitArgs } from './args.js';

const USAGE = `usage: facegate enroll NAME --images DIR [--crops] [--json] [--config FILE]
  Copies the photos in DIR that show a detectable face into the gallery as NAME (added to NAME's images if
  NAME is enrolled already) and caches their embeddings. Photos without a face are listed and not copied.
  DIR may be a "facegate collect" folder (with anchor/ and positive/ inside): its images are face crops
  already and are taken whole; --crops says the same of any folder.
  Nothing is written when no photo is usable or anything fails. Exit code: 0 enrolled, 1 error, 64 usage.
  With fleet.enabled the person also goes to every door of the site (embeddings only; the photos stay here):
  --doors ID,ID limits that to some doors, --local keeps the person on this door only.`;

/** Images to consider, and whether they are face crops already (a `facegate collect` data folder). */
export function candidateImages(dir: string, forceCrops: boolean): Array<{ file: string; isCrop: boolean }> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new GalleryError(`--images ${dir} is not a folder`);
  const collectFolders = ['anchor', 'positive'].map((sub) => join(dir, sub)).filter((sub) => existsSync(sub) && statSync(sub).isDirectory());
  const listed = (folder: string) => readdirSync(folder).filter(isImageFile).sort().map((f) => join(folder, f));
  if (collectFolders.length) return collectFolders.flatMap(listed).map((file) => ({ file, isCrop: true }));
  return listed(dir).map((file) => ({ file, isCrop: forceCrops }));
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals, settingsArgs } = splitArgs(argv, { images: { type: 'string' }, crops: { type: 'boolean' }, json: { type: 'boolean' }, doors: { type: 'string' }, local: { type: 'boolean' } });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length !== 1 || typeof values.images !== 'string') {
    console.error(`facegate enroll: ${positionals.length === 0 ? 'NAME is required' : positionals.length > 1 ? `one NAME please, got ${positionals.join(' ')}` : '--images DIR is required'}\n${USAGE}`);
    return 64;
  }
  const { settings, log } = commandSettings(values, settingsArgs);
  let name: string;
  let candidates: ReturnType<typeof candidateImages>;
  try {
    name = validatePersonName(positionals[0]!);
    candidates = candidateImages(values.images, values.crops === true);
  } catch (error) {
    console.error(`facegate enroll: ${errorMessage(error)}`);
    return 1;
  }
  if (candidates.length === 0) {
    console.error(`facegate enroll: no images (jpg, png, webp, pgm) in ${values.images}`);
    return 1;
  }
  let verifier;
  try {
    // Loaded here, not at the top: usage errors and `gallery` (which shares the helpers above) skip tfjs.
    const { createVerifier } = await import('../face/verifier.js');
    verifier = await createVerifier(settings, log);
  } catch (error) {
    console.error(`facegate enroll: cannot load the model: ${errorMessage(error)}`);
    return 1;
  }
  try {
    const accepted: NewImage[] = [];
    const rejected: Array<{ file: string; reason: string }> = [];
    for (const { file, isCrop } of candidates) {
      try {
        const bytes = await readFile(file);
        const face = await verifier.pipeline.faceCrop(bytes, { isCrop });
        if (face) accepted.push({ source: file, bytes, isCrop });
        else rejected.push({ file, reason: 'no face found' });
      } catch (error) {
        rejected.push({ file, reason: errorMessage(error) });
      }
    }
    if (accepted.length === 0) {
      console.error(`facegate enroll: none of the ${candidates.length} images is usable; nothing was enrolled`);
      for (const r of rejected) console.error(`  ${basename(r.file)}: ${r.reason}`);
      return 1;
    }
    let added: string[];
    try {
      added = writePerson(galleryDir(settings), name, accepted);
    } catch (error) {
      console.error(`facegate enroll: cannot write ${name} into the gallery: ${errorMessage(error)}; the gallery was not changed`);
      return 1;
    }
    const info = await verifier.reload(); // embeds the new images once, into the cache
    let site: Awaited<ReturnType<typeof shareWithSite>> = null;
    try {
      site = await shareWithSite(settings, log, name, values, verifier.pipeline);
    } catch (error) {
      console.error(`facegate enroll: ${name} is enrolled on this door but not published to the site: ${errorMessage(error)}; ` +
        `try again with "facegate fleet enroll ${name} --images ${join(galleryDir(settings), name)}"`);
      return 1;
    }
    const summary = { name, added: added.length, duplicates: accepted.length - added.length, rejected, gallery: info, ...(site ? { site } : {}) };
    if (values.json) console.log(JSON.stringify(summary));
    else {
      if (site) console.log((await import('./fleet-publish.js')).siteSummary(site));
      console.log(`enrolled ${name}: ${added.length} image(s) added${summary.duplicates ? `, ${summary.duplicates} already there` : ''}; gallery: ${info.identities} people, ${info.images} images`);
      if (rejected.length) {
        console.log(`${rejected.length} image(s) not used:`);
        for (const r of rejected) console.log(`  ${basename(r.file)}: ${r.reason}`);
      }
    }
    return 0;
  } catch (error) {
    console.error(`facegate enroll: ${errorMessage(error)}`);
    return 1;
  } finally {
    await verifier.close();
  }
}

/** With fleet.enabled (and not --local): the person's photos on this door, as embeddings, to the whole site. */
async function shareWithSite(settings: Settings, log: Logger, name: string, values: Record<string, unknown>, pipeline: FacePipeline) {
  if (!settings.fleet.enabled || values.local === true) return null;
  const { parseDoors, publishEnrolment } = await import('./fleet-publish.js');
  const doors = parseDoors(values.doors as string | undefined);
  if (doors === null) throw new Error('--doors needs at least one device id');
  const person = listPeople(galleryDir(settings)).find((p) => p.name === name);
  const images = (person?.images ?? []).map((file) => ({ file, isCrop: isFaceCropFile(file) }));
  return publishEnrolment(settings, log, name, images, pipeline, doors);
}
