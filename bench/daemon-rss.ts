/**
 * The resident memory of a daemon-like process for one model folder: a fresh Node process that does what the
 * daemon's start does for face verification (backend, model, detector, gallery through the cache, warm-up on
 * a 1280x720 frame, one verification) and reports its RSS. One process per model, so models do not share
 * the number. Used by bench/verify.ts; run alone: node --import tsx bench/daemon-rss.ts MODEL_DIR GALLERY_DIR STATE_DIR
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** RSS in MB of a child process holding one warmed-up verifier for `modelDir`, or the error in a string. */
export function daemonRssMb(modelDir: string, galleryDir: string, stateDir: string): number | string {
  try {
    const out = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), modelDir, galleryDir, stateDir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return Number(JSON.parse(out.trim().split('\n').pop()!).rss_mb);
  } catch (err) {
    return `failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`;
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [modelDir, galleryDir, stateDir] = process.argv.slice(2);
  const { loadConfig } = await import('../src/config/index.js');
  const { createVerifier } = await import('../src/face/verifier.js');
  const settings = loadConfig({ env: { FACEGATE_MODEL_DIR: modelDir!, FACEGATE_GALLERY_DIR: galleryDir!, FACEGATE_STATE_DIR: stateDir! } }).getProperties();
  const verifier = await createVerifier(settings, undefined, { warmUp: { width: 1280, height: 720 } });
  const person = readdirSync(galleryDir!)[0]!;
  const photo = readdirSync(join(galleryDir!, person)).find((f) => /\.(jpe?g|png)$/i.test(f))!;
  await verifier.verify(readFileSync(join(galleryDir!, person, photo)));
  console.log(JSON.stringify({ rss_mb: Math.round(process.memoryUsage().rss / 1e6) }));
  await verifier.close();
}
