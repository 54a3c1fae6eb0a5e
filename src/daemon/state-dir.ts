import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Settings } from '../config/index.js';
import type { Logger } from '../log.js';

export interface StateDir {
  /** The settings to run with: paths.state replaced by a private temp folder when the configured one is unusable. */
  settings: Settings;
  /** What runs degraded, in words for the log, the status and `facegate status`; empty when the state dir works. */
  degraded: string[];
  /** True when state lives in the temp folder and is lost at restart. */
  volatile: boolean;
}

/**
 * Checks that the state dir can be written (mkdir -p and a probe file). A read-only or missing state dir used
 * to stop start-up with a misleading "ENOENT mkdir"; now the door runs degraded instead, its state in a private
 * temp folder for this run, and says what that costs: the audit trail, the lockout and the replay cache do not
 * survive a restart, and `facegate status` cannot find the daemon.
 */
export function prepareStateDir(settings: Settings, log: Logger): StateDir {
  const dir = settings.paths.state;
  try {
    mkdirSync(dir, { recursive: true });
    const probe = join(dir, `.write-test-${process.pid}`);
    writeFileSync(probe, '');
    rmSync(probe);
    return { settings, degraded: [], volatile: false };
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error));
    const fallback = mkdtempSync(join(tmpdir(), 'facegate-state-'));
    const degraded = [
      `state dir ${dir} is not writable (${why}): running with state in ${fallback}, lost at restart`,
      'audit log not durable (kept in the temporary folder only)',
      'lockout and MQTT replay cache do not survive a restart',
      'facegate status / reload cannot find this daemon',
    ];
    log.error({ stateDir: dir, fallback, err: error, degraded }, 'state dir not writable: running degraded');
    return { settings: { ...settings, paths: { ...settings.paths, state: fallback } }, degraded, volatile: true };
  }
}
