import { EXIT_CODES } from '../core/errors.js';
import { processAlive, readStatusFile } from '../daemon/status-file.js';
import { loadCommandSettings, splitArgs } from './args.js';

const USAGE = 'usage: facegate status [--json] [--config FILE]: the running daemon\'s state, from <paths.state>/status.json';

/** `facegate status`: what the running daemon last wrote about itself; exit 69 when it is not running. */
export async function run(argv: string[]): Promise<number> {
  const { values, settingsArgs } = splitArgs(argv, { json: { type: 'boolean' } }, { positionalsAreSettings: true });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const settings = loadCommandSettings(values, settingsArgs);
  const file = readStatusFile(settings.paths.state);
  const running = file !== null && processAlive(file.pid);
  if (values.json) {
    console.log(JSON.stringify({ running, ...(file ?? {}) }));
    return running ? 0 : EXIT_CODES.unavailable;
  }
  if (!file) {
    console.log(`facegate is not running here: no status file in ${settings.paths.state} (is --state-dir / paths.state the daemon's?)`);
    return EXIT_CODES.unavailable;
  }
  const s = file.status;
  const lines = [
    running ? `facegate is running (pid ${file.pid}, since ${file.startedAt})` : `facegate is NOT running (pid ${file.pid} is gone; last update ${file.updatedAt})`,
    `  door:     ${s.mode}${s.lockedOutUntil ? ` until ${s.lockedOutUntil}` : ''}, relay ${s.relay ? 'ON (unlocked)' : 'off'}`,
    `  camera:   ${s.camera.driver}, ${s.camera.healthy ? 'healthy' : 'NOT healthy'}`,
    `  gallery:  ${s.gallery.identities} people, ${s.gallery.images} images; model ${s.model} on ${s.backend}`,
    `  audit:    ${s.audit ?? 'unknown'}`,
    // Read from a file an older daemon may have written: liveness can be missing there.
    `  liveness: ${s.liveness?.mode ?? 'unknown'}${s.liveness?.warning ? `  !!! ${s.liveness.warning}` : ''}`,
    `  attempts: ${s.attemptsToday} today${s.lastAttempt ? `; last ${s.lastAttempt.decision} at ${s.lastAttempt.ts}` : ''}`,
    ...(s.degraded?.length ? ['  degraded:', ...s.degraded.map((d) => `    - ${d}`)] : []),
    `  as of ${file.updatedAt}`,
  ];
  console.log(lines.join('\n'));
  return running ? 0 : EXIT_CODES.unavailable;
}
