import { existsSync } from 'node:fs';
import { auditDir, snapshotPath } from '../audit/files.js';
import type { AttemptEvent } from '../core/events.js';
import { attemptsTable } from '../audit/format.js';
import { isDecision, readAttempts, type AuditQuery } from '../audit/read.js';
import { parseTimeBound } from '../audit/time.js';
import { splitArgs, strictCommandSettings, UsageError } from './args.js';
import { DECISIONS } from '../core/types.js';

const USAGE = `usage: facegate audit [--since DATE|DURATION] [--until DATE|DURATION] [--decision granted|denied|no_face|spoof|error] [--snapshots] [--json] [--config FILE]
  --since, --until   a duration back from now (30m, 24h, 7d), a UTC date (2026-11-29) or an ISO time; until is exclusive
  --snapshots        add where each attempt's face image is (kept when audit.snapshots is on; "-" when none)
  --json             one attempt per line as JSON (JSON Lines), oldest first; pipe into jq (--snapshots adds "snapshot")
Any other setting may follow as a flag, e.g. --state-dir /var/lib/facegate.`;

const OWN_OPTIONS = {
  since: { type: 'string' },
  until: { type: 'string' },
  decision: { type: 'string' },
  json: { type: 'boolean' },
  snapshots: { type: 'boolean' },
} as const;

export async function run(argv: string[]): Promise<number> {
  let parsed;
  try {
    // Stray arguments go to the settings too, so they stop with exit 78 like an unknown flag.
    parsed = splitArgs(argv, OWN_OPTIONS, { positionalsAreSettings: true });
  } catch (error) {
    console.error(`facegate audit: ${(error as Error).message}\n${USAGE}`);
    // A mistyped flag is a configuration error (78) like in every command; anything else is usage (64).
    return error instanceof UsageError ? error.exitCode : 64;
  }
  const { values, settingsArgs } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const query: AuditQuery = {};
  try {
    if (typeof values.since === 'string') query.since = parseTimeBound(values.since);
    if (typeof values.until === 'string') query.until = parseTimeBound(values.until);
    if (typeof values.decision === 'string') {
      if (!isDecision(values.decision)) throw new Error(`--decision must be ${DECISIONS.join(', ')}, not "${values.decision}"`);
      query.decision = values.decision;
    }
  } catch (error) {
    console.error(`facegate audit: ${(error as Error).message}`);
    return 64;
  }
  // The rest must be settings flags: a typo stops with exit 78 rather than being ignored.
  const settings = strictCommandSettings(values, settingsArgs);
  const dir = auditDir(settings.paths.state);
  const result = await readAttempts(dir, query);
  const snapshotOf = (event: AttemptEvent) => {
    const file = snapshotPath(dir, event);
    return existsSync(file) ? file : null;
  };

  if (values.json) {
    for (const event of result.attempts) {
      const line = values.snapshots ? { ...event, snapshot: snapshotOf(event) } : event;
      process.stdout.write(`${JSON.stringify(line)}\n`);
    }
  } else if (result.attempts.length === 0) {
    console.log(`no attempts recorded in ${dir} for this range`);
  } else {
    console.log(attemptsTable(result.attempts, values.snapshots ? snapshotOf : undefined));
    console.log(`\n${result.attempts.length} attempt(s)`);
  }
  // Damaged lines are reported on stderr so --json output stays clean for jq.
  if (result.skippedLines > 0) {
    console.error(`facegate audit: skipped ${result.skippedLines} damaged line(s) (e.g. cut short by a power loss)`);
  }
  return 0;
}
