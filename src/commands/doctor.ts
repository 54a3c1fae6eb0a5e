import { createLogger } from '../log.js';
import { CHECK_GROUPS, formatResult, runChecks, type CheckGroup } from '../doctor/run.js';
import { loadCommandSettings, splitArgs } from './args.js';

const USAGE = `usage: facegate doctor [--json] [--config FILE] [--only camera,gpio,model,gallery,broker,state,fleet] [--camera-seconds N]
Checks the camera (program found, frames arrive, fps), GPIO (sysfs access, pin numbers), the model, the gallery
and the MQTT broker; prints one line per check with the fix for each failure. Exit code 1 when any check fails.
Any setting may follow as a flag, e.g. --camera rpicam --camera-command /usr/bin/rpicam-vid.`;

const OWN_OPTIONS = {
  json: { type: 'boolean' },
  only: { type: 'string' },
  'camera-seconds': { type: 'string' },
} as const;

export async function run(argv: string[]): Promise<number> {
  const { values, settingsArgs } = splitArgs(argv, OWN_OPTIONS, { positionalsAreSettings: true });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const only = typeof values.only === 'string' ? values.only.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
  const unknown = only?.filter((g) => !CHECK_GROUPS.includes(g as CheckGroup)) ?? [];
  const seconds = typeof values['camera-seconds'] === 'string' ? Number(values['camera-seconds']) : 3;
  if (unknown.length || !(seconds > 0 && seconds <= 60)) {
    console.error(`facegate doctor: ${unknown.length ? `unknown check ${unknown.join(', ')}` : '--camera-seconds must be 1..60'}\n${USAGE}`);
    return 64;
  }
  const settings = loadCommandSettings(values, settingsArgs);
  const json = values.json === true;
  // The camera's own restart warnings would interleave with the report; the report says it all.
  const log = createLogger({ level: 'silent' });
  const results = await runChecks(settings, {
    cameraWindowMs: seconds * 1000,
    log,
    ...(only ? { only: only as CheckGroup[] } : {}),
    ...(json ? {} : { onResult: (r) => console.log(formatResult(r)) }),
  });
  const ok = results.every((r) => r.status !== 'fail');
  if (json) console.log(JSON.stringify({ ok, checks: results }, null, 2));
  else console.log(ok ? '\nall checks passed' : `\n${results.filter((r) => r.status === 'fail').length} check(s) failed`);
  return ok ? 0 : 1;
}
