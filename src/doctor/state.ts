import { accessSync, constants, existsSync } from 'node:fs';
import type { Settings } from '../config/index.js';
import { processAlive, readStatusFile } from '../daemon/status-file.js';
import { fail, messageOf, pass, skip, type CheckResult } from './types.js';

/** The state dir can be written (audit log, lockout, status): else the daemon runs degraded. */
export function stateDirCheck(settings: Pick<Settings, 'paths'>): CheckResult {
  const dir = settings.paths.state;
  if (!existsSync(dir)) return skip('state-dir', `${dir} does not exist yet (the daemon creates it)`);
  try {
    accessSync(dir, constants.W_OK);
    return pass('state-dir', `${dir} is writable`);
  } catch (error) {
    return fail('state-dir', `${dir} is not writable: ${messageOf(error)}`,
      'give the service user write access (systemd StateDirectory= does), or point paths.state elsewhere; until then the daemon runs degraded');
  }
}

/** What the running daemon says about its audit log and anything degraded (from status.json). */
export function daemonAuditCheck(settings: Pick<Settings, 'paths'>): CheckResult {
  const file = readStatusFile(settings.paths.state);
  if (!file || !processAlive(file.pid)) return skip('daemon-audit', 'no running daemon found for this state dir');
  const { audit, degraded = [] } = file.status;
  if (audit === 'failing' || degraded.length > 0) {
    return fail('daemon-audit', `audit ${audit ?? 'unknown'}; ${degraded.join('; ') || 'nothing else degraded'}`,
      'free space on the state dir\'s disk (df -h), check its permissions; audit.required: true makes the door deny while it fails',
      { audit, degraded });
  }
  return pass('daemon-audit', `audit ${audit ?? 'unknown'} (pid ${file.pid})`, { audit });
}
