import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { FacePipeline } from '../gallery/cache.js';

/**
 * Photos -> embeddings for a site entry, with the enrolling machine's own model. Only the embeddings leave
 * this function: the photos are read, used and dropped (they never go on the broker).
 */
export interface EmbedOutcome {
  embeddings: Float32Array[];
  rejected: Array<{ file: string; reason: string }>;
}

export async function embedPhotos(pipeline: FacePipeline, images: Array<{ file: string; isCrop: boolean }>, batchSize = 8): Promise<EmbedOutcome> {
  const embeddings: Float32Array[] = [];
  const rejected: EmbedOutcome['rejected'] = [];
  let faces: Awaited<ReturnType<FacePipeline['faceCrop']>>[] = [];
  const flush = async () => {
    if (faces.length) embeddings.push(...(await pipeline.embed(faces.filter((f) => f !== null))));
    faces = [];
  };
  for (const { file, isCrop } of images) {
    try {
      const face = await pipeline.faceCrop(await readFile(file), { isCrop });
      if (face === null) rejected.push({ file: basename(file), reason: 'no face found' });
      else faces.push(face);
      if (faces.length >= batchSize) await flush();
    } catch (error) {
      rejected.push({ file: basename(file), reason: (error as Error).message });
    }
  }
  await flush();
  return { embeddings, rejected };
}
