import { galleryDir, type Settings } from '../config/index.js';
import { fail, messageOf, pass, type CheckResult } from './types.js';

/**
 * The model folder loads on the configured backend (loaded lazily: tfjs is heavy), and a BlazeFace model finds
 * its detector's package (`@vladmandic/human`, an optional peer dependency). `resolvePackage` lets a test
 * simulate that package's absence.
 */
export async function modelCheck(settings: Settings, resolvePackage?: (id: string) => string): Promise<CheckResult> {
  const name = 'model';
  try {
    const { initBackend } = await import('../model/backend.js');
    const { loadSiameseModel } = await import('../model/io.js');
    const backend = await initBackend(settings.model.backend);
    const model = await loadSiameseModel(settings.model.dir);
    const { tower, inputSize, embeddingSize } = model.metadata;
    const detector = model.metadata.detector ?? settings.vision.detector;
    model.dispose();
    if (detector.startsWith('blazeface')) {
      const { blazeFaceModelPath, HUMAN_INSTALL_COMMAND } = await import('../face/detect/blazeface.js');
      try {
        blazeFaceModelPath(resolvePackage);
      } catch (error) {
        return fail(name, messageOf(error), `${HUMAN_INSTALL_COMMAND} (in the facegate folder), or choose a model without BlazeFace (models/default)`);
      }
    }
    return pass(name, `${settings.model.dir}: ${tower}, ${inputSize} px -> ${embeddingSize}-d on ${backend.name}`, { backend: backend.name, tower });
  } catch (error) {
    return fail(name, messageOf(error), `train or copy a model into ${settings.model.dir} (facegate train), or set model.dir; model.backend "cpu" always works`);
  }
}

/** At least one person is enrolled with at least one image. */
export async function galleryCheck(settings: Settings): Promise<CheckResult> {
  const name = 'gallery';
  const dir = galleryDir(settings);
  try {
    const { listPeople } = await import('../gallery/gallery.js');
    const people = listPeople(dir).filter((p) => p.images.length > 0);
    const images = people.reduce((sum, p) => sum + p.images.length, 0);
    // On a fleet door people may all come from the site gallery (the fleet check counts those).
    if (people.length === 0 && settings.fleet.enabled) return pass(name, `${dir}: no local photos; this door takes its people from the site gallery`, { people: 0, images: 0 });
    if (people.length === 0) return fail(name, `${dir}: nobody enrolled`, 'facegate enroll NAME --images DIR');
    return pass(name, `${dir}: ${people.length} people, ${images} images`, { people: people.length, images });
  } catch (error) {
    return fail(name, messageOf(error), `check ${dir}`);
  }
}
