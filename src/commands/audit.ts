import { parseArgs } from 'node:util';
import { auditDir } from '../audit/files.js';
import { attemptsTable } from '../audit/format.js';
import { isDecision, readAttempts, type AuditQuery } from '../audit/read.js';
import { parseTimeBound } from '../audit/time.js';
import { configFromArgv } from './config.js';

const USAGE = `usage: facegate audit [--since DATE|DURATION] [--until DATE|DURATION] [--decision granted|denied|no_face|error] [--json] [--config FILE]
  --since, --until   a duration back from now (30m, 24h, 7d), a UTC date (2026-11-29) or an ISO time; until is exclusive
  --json             one attempt per line as JSON (JSON Lines), oldest first; pipe into jq
Any other setting may follow as a flag, e.g. --state-dir /var/lib/facegate.`;

const OWN_OPTIONS = {
  since: { type: 'string' },
  until: { type: 'string' },
  decision: { type: 'string' },
  json: { type: 'boolean' },
  config: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Splits argv into this command's options and the rest, which are settings flags for the config loader. */
function splitArgs(argv: string[]) {
  const { values, tokens } = parseArgs({ args: argv, options: OWN_OPTIONS, strict: false, allowPositionals: true, tokens: true });
  const rest: string[] = [];
  for (const token of tokens) {
    if (token.kind === 'option' && !(token.name in OWN_OPTIONS)) {
      rest.push(token.rawName);
      if (token.value !== undefined) rest.push(token.value);
    } else if (token.kind === 'positional') {
      rest.push(token.value);
    }
  }
  return { values, rest };
}

export async function run(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = splitArgs(argv);
  } catch (error) {
    console.error(`facegate audit: ${(error as Error).message}\n${USAGE}`);
    return 64;
  }
  const { values, rest } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const query: AuditQuery = {};
  try {
    if (typeof values.since === 'string') query.since = parseTimeBound(values.since);
    if (typeof values.until === 'string') query.until = parseTimeBound(values.until);
    if (typeof values.decision === 'string') {
      if (!isDecision(values.decision)) throw new Error(`--decision must be granted, denied, no_face or error, not "${values.decision}"`);
      query.decision = values.decision;
    }
  } catch (error) {
    console.error(`facegate audit: ${(error as Error).message}`);
    return 64;
  }
  // The rest must be settings flags: a typo stops with exit 78 rather than being ignored.
  const configArgs = typeof values.config === 'string' ? ['--config', values.config, ...rest] : rest;
  const settings = configFromArgv(configArgs).getProperties();
  const result = await readAttempts(auditDir(settings.paths.state), query);

  if (values.json) {
    for (const event of result.attempts) process.stdout.write(`${JSON.stringify(event)}\n`);
  } else if (result.attempts.length === 0) {
    console.log(`no attempts recorded in ${auditDir(settings.paths.state)} for this range`);
  } else {
    console.log(attemptsTable(result.attempts));
    console.log(`\n${result.attempts.length} attempt(s)`);
  }
  // Damaged lines are reported on stderr so --json output stays clean for jq.
  if (result.skippedLines > 0) {
    console.error(`facegate audit: skipped ${result.skippedLines} damaged line(s) (e.g. cut short by a power loss)`);
  }
  return 0;
}
