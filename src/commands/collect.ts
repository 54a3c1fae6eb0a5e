import { createCamera } from '../camera/factory.js';
import { initBackend } from '../model/backend.js';
import { createFaceDetector } from '../face/detect/faces.js';
import { CollectSession, type CaptureKind, type CaptureResult } from '../collect/session.js';
import { PreviewServer } from '../collect/preview.js';
import { captureKeys } from '../collect/keys.js';
import { commandSettings, splitArgs, UsageError } from './args.js';
import { collectPresentations } from './collect-pad.js';

const USAGE = `usage: facegate collect [--margin F] [--config FILE] [settings flags]
Collect training images the seed tutorial's way, from the configured camera, in a terminal (SSH is fine):
  a   save an anchor image    (<paths.data>/anchor/<uuid>.crop.jpg)
  p   save a positive image   (<paths.data>/positive/<uuid>.crop.jpg)
  q   quit (also Ctrl-C)
Each capture is the face found in the newest frame, cropped like verification crops it (250x250 JPEG).
  --margin F         widen the face square by this fraction on each side (default 0, like the models)
Live preview: http://127.0.0.1:<preview.port>/preview (MJPEG; --preview-port 0 turns it off). It listens on
this machine only: over SSH use "ssh -L 8081:localhost:8081 pi@door", or --preview-host 0.0.0.0 to serve it
to every network without a password.
Settings flags, e.g.: --data-dir DIR --camera v4l2 --detector tiny|ssd|fixed --preview-port 8081 --preview-host 0.0.0.0
Then train: facegate train --anchor DIR/anchor --positive DIR/positive --negative ../shared/datasets/lfw-dev --no-detect

Presentation-attack captures, to measure liveness at your own door (then: facegate evaluate-pad):
  --attack TYPE      record attack presentations of TYPE (print, phone, tablet, ...) into <paths.data>/pad/attack/TYPE/
  --bona-fide        record real people into <paths.data>/pad/bona-fide/
  keys: b = a burst as the door takes it (liveness.burst.frames frames), s = a single frame, q = quit`;

const OWN_OPTIONS = {
  margin: { type: 'string' },
  attack: { type: 'string' },
  'bona-fide': { type: 'boolean' },
} as const;

/** Raw mode turns off the terminal's newline translation, so every line ends in CR LF. */
function say(text: string): void {
  process.stdout.write(`${text.replace(/\n/g, '\r\n')}\r\n`);
}

function describe(result: CaptureResult, counts: Record<CaptureKind, number>): string {
  const totals = `[anchor ${counts.anchor}, positive ${counts.positive}]`;
  if (!result.saved) return `${result.kind}: not saved: ${result.reason} ${totals}`;
  const b = result.box;
  const box = `face ${Math.round(b.width)}x${Math.round(b.height)} at (${Math.round(b.x)},${Math.round(b.y)}) score ${b.score.toFixed(2)}`;
  const quality = `brightness ${result.quality.brightness.toFixed(2)} sharpness ${Math.round(result.quality.sharpness)}`;
  return `${result.kind} saved ${totals} ${box}, ${quality}${result.hint ? ` (${result.hint})` : ''}\n  ${result.file}`;
}

export async function run(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = splitArgs(argv, OWN_OPTIONS, { positionalsAreSettings: true });
  } catch (error) {
    console.error(`facegate collect: ${(error as Error).message}\n${USAGE}`);
    // A flag without its value is a configuration error (78) as in every command; the rest is usage (64).
    return error instanceof UsageError ? error.exitCode : 64;
  }
  const { values, settingsArgs } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const margin = typeof values.margin === 'string' ? Number(values.margin) : 0;
  if (!(margin >= 0 && margin <= 1)) {
    console.error('facegate collect: --margin must be a number from 0 to 1');
    return 64;
  }
  // The screen is the interface: only warnings and errors go to stderr, as JSON lines. A mistyped flag is
  // reported before the terminal check, so it is not hidden behind "needs an interactive terminal".
  const { settings, log } = commandSettings(values, settingsArgs);
  if (!process.stdin.isTTY) {
    // Waiting for keys that can never come would hang a script or a systemd unit; say how to use it instead.
    console.error(`facegate collect: needs an interactive terminal (stdin is not a TTY); run it in a terminal or over "ssh -t".\n\n${USAGE}`);
    return 2;
  }
  if (typeof values.attack === 'string' || values['bona-fide']) {
    const target = typeof values.attack === 'string' ? { kind: 'attack' as const, type: values.attack } : { kind: 'bona-fide' as const };
    return collectPresentations(settings, log, target);
  }

  if (settings.vision.detector !== 'fixed') await initBackend(settings.model.backend, log);
  const detector = await createFaceDetector(settings.vision, { log });
  const camera = await createCamera(settings, log);
  await camera.start();
  const session = new CollectSession({ camera, detector, dataDir: settings.paths.data, margin });
  await session.open();
  let lastCapture: CaptureResult | null = null;
  let preview: PreviewServer | null = null;
  if (settings.preview.port > 0) {
    const host = settings.preview.host;
    preview = new PreviewServer({ camera, port: settings.preview.port, host, log, status: () => ({ counts: session.counts, lastCapture }) });
    try {
      const url = await preview.start();
      say(isLoopbackPreview(host)
        ? `live preview: ${url} (this machine only; from another one: ssh -L ${settings.preview.port}:localhost:${settings.preview.port} <this host>, or --preview-host 0.0.0.0)`
        : `live preview: ${url} on ${host}: anyone on the network can watch the camera (no password)`);
    } catch (error) {
      say(`live preview off: ${(error as Error).message}`);
      preview = null;
    }
  }

  say(`collecting into ${session.folder('anchor')} and ${session.folder('positive')} with the ${detector.name} detector`);
  say(`keys: a = anchor, p = positive, q = quit   [anchor ${session.counts.anchor}, positive ${session.counts.positive}]`);

  const capture = (kind: CaptureKind) => () =>
    session
      .capture(kind)
      .then((result) => {
        lastCapture = result;
        say(describe(result, session.counts));
      })
      .catch((error: unknown) => say(`${kind}: failed: ${error instanceof Error ? error.message : String(error)}`));
  const finished = captureKeys(process.stdin, { a: capture('anchor'), p: capture('positive') }, () => say('(still saving the previous capture)'));
  await finished;
  await preview?.stop();
  await camera.stop();
  say(`done: ${session.counts.anchor} anchor and ${session.counts.positive} positive images in ${settings.paths.data}`);
  return 0;
}

/** The preview is private to this machine unless told otherwise (--preview-host). */
export function isLoopbackPreview(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}
