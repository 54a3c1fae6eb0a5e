import { setTimeout as sleep } from 'node:timers/promises';
import { EXIT_CODES } from '../core/errors.js';
import { processAlive, readStatusFile } from '../daemon/status-file.js';
import { loadCommandSettings, splitArgs } from './args.js';

const USAGE = 'usage: facegate reload [--config FILE]: the running daemon reloads its gallery and lockout state (= kill -HUP)';
const WAIT_MS = 60_000;

/** Sends SIGHUP to the daemon found in status.json and waits until it reports the reload done. */
export async function run(argv: string[]): Promise<number> {
  const { values, settingsArgs } = splitArgs(argv, {}, { positionalsAreSettings: true });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const settings = loadCommandSettings(values, settingsArgs);
  return signalReload(settings.paths.state, 'facegate reload');
}

/** Shared with `facegate lockout clear`: SIGHUP the running daemon, wait for its reload counter to move. */
export async function signalReload(stateDir: string, who: string): Promise<number> {
  const before = readStatusFile(stateDir);
  if (!before || !processAlive(before.pid)) {
    console.log(`${who}: no running daemon found in ${stateDir}`);
    return EXIT_CODES.unavailable;
  }
  process.kill(before.pid, 'SIGHUP');
  const deadline = Date.now() + WAIT_MS;
  while (Date.now() < deadline) {
    await sleep(200);
    const now = readStatusFile(stateDir);
    if (now && now.pid === before.pid && now.reloads > before.reloads) {
      console.log(`${who}: daemon (pid ${now.pid}) reloaded: ${now.status.gallery.identities} people, ${now.status.gallery.images} images, door ${now.status.mode}`);
      return 0;
    }
  }
  console.error(`${who}: sent SIGHUP to pid ${before.pid}, but it did not report a reload within ${WAIT_MS / 1000} s (see its log)`);
  return EXIT_CODES.unavailable;
}
