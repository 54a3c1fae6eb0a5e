import { createCamera } from '../camera/factory.js';
import { PresentationRecorder, type PresentationTarget } from '../collect/presentations.js';
import { captureKeys } from '../collect/keys.js';
import type { Settings } from '../config/index.js';
import type { Logger } from '../log.js';

function say(text: string): void {
  process.stdout.write(`${text.replace(/\n/g, '\r\n')}\r\n`);
}

/** `facegate collect --attack TYPE | --bona-fide`: keys b (burst) and s (single frame) record presentations. */
export async function collectPresentations(settings: Settings, log: Logger, target: PresentationTarget): Promise<number> {
  let recorder: PresentationRecorder;
  const camera = await createCamera(settings, log);
  try {
    recorder = new PresentationRecorder({ camera, dataDir: settings.paths.data, target, burst: { count: settings.liveness.burst.frames, durationMs: settings.liveness.burst.durationMs } });
  } catch (error) {
    console.error(`facegate collect: ${(error as Error).message}`);
    return 64;
  }
  await camera.start();
  await recorder.open();
  if (settings.camera.driver === 'files') say('note: the folder camera has no stream; a burst is the newest images in its folder');
  const what = target.kind === 'attack' ? `"${target.type}" attack presentations (hold up the print/phone as an attacker would)` : 'bona fide presentations (real people, as at the door)';
  say(`recording ${what} into ${recorder.folder}`);
  say(`keys: b = burst (${settings.liveness.burst.frames} frames), s = single frame, q = quit   [${recorder.count} so far]`);
  const record = (kind: 'burst' | 'single') => () =>
    recorder
      .record(kind)
      .then((r) => say(`saved ${r.frames} frame${r.frames === 1 ? '' : 's'}${r.frames > 1 ? ` over ${r.spanMs} ms` : ''}: ${r.path}  [${recorder.count}]`))
      .catch((error: unknown) => say(`not saved: ${error instanceof Error ? error.message : String(error)}`));
  await captureKeys(process.stdin, { b: record('burst'), s: record('single') }, () => say('(still saving the previous presentation)'));
  await camera.stop();
  say(`done: ${recorder.count} presentations in ${recorder.folder}; measure them with facegate evaluate-pad --bona-fide ${settings.paths.data}/pad/bona-fide --attack ${settings.paths.data}/pad/attack`);
  return 0;
}
