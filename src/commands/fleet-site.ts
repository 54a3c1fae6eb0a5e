import { isDecision, readAttempts } from '../audit/read.js';
import { parseTimeBound } from '../audit/time.js';
import { startCollector } from '../fleet/collector.js';
import { mqttTransport, whenConnected } from '../fleet/mqtt-transport.js';
import { collectRetained } from '../fleet/publish.js';
import { collectorDir, type SiteAttempt } from '../fleet/site-audit.js';
import { fleetTable, summarizeFleet } from '../fleet/status.js';
import { fleetTopics } from '../fleet/topics.js';
import { redactUrl } from '../mqtt/client.js';
import { oneShotClientId, usageError, type FleetArgs } from './fleet-args.js';

/** fleet status | collect | audit: what the doors report, no site key needed. */
export async function runSite(args: FleetArgs): Promise<number> {
  if (args.positionals.length) return usageError(`${args.sub} takes no NAME`);
  if (args.sub === 'status') return status(args);
  if (args.sub === 'collect') return collect(args);
  return audit(args);
}

async function status({ settings, values, log }: FleetArgs): Promise<number> {
  const topics = fleetTopics(settings);
  const transport = mqttTransport(settings, oneShotClientId('status'), log);
  try {
    await whenConnected(transport, redactUrl(settings.mqtt.url));
    const retained = await collectRetained(transport, [topics.availabilityFilter, topics.stateFilter, topics.fleetFilter, topics.galleryFilter], topics.base);
    const summary = summarizeFleet(retained, topics);
    if (values.json) console.log(JSON.stringify(summary));
    else if (summary.doors.length === 0) console.log(`no doors found under ${topics.base}/ (is mqtt.baseTopic the doors' one?)`);
    else console.log(fleetTable(summary));
    // Scripts and monitoring: 1 when a door's gallery is not the site's.
    return summary.doors.some((d) => d.gallery === 'lags' || d.gallery === 'ahead') ? 1 : 0;
  } finally {
    await transport.close();
  }
}

async function collect({ settings, log }: FleetArgs): Promise<number> {
  const collector = startCollector(settings, log);
  await collector.ready;
  console.error(`collecting every door's attempts under ${settings.mqtt.baseTopic}/+/attempt into ${collectorDir(settings)}; Ctrl-C stops`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await collector.stop();
  console.error(`stopped: ${JSON.stringify(collector.counts())}`);
  return 0;
}

async function audit({ settings, values }: FleetArgs): Promise<number> {
  let since: number | undefined;
  let until: number | undefined;
  try {
    if (typeof values.since === 'string') since = parseTimeBound(values.since);
    if (typeof values.until === 'string') until = parseTimeBound(values.until);
  } catch (error) {
    return usageError((error as Error).message);
  }
  const decision = values.decision;
  if (typeof decision === 'string' && !isDecision(decision)) return usageError(`--decision must be granted, denied, no_face or error, not "${decision}"`);
  const result = await readAttempts(collectorDir(settings), {
    ...(since !== undefined ? { since } : {}),
    ...(until !== undefined ? { until } : {}),
    ...(typeof decision === 'string' && isDecision(decision) ? { decision } : {}),
  });
  const attempts = (result.attempts as SiteAttempt[]).filter((a) =>
    (typeof values.door !== 'string' || a.door === values.door) && (typeof values.identity !== 'string' || a.identity === values.identity));
  if (values.json) for (const a of attempts) process.stdout.write(`${JSON.stringify(a)}\n`);
  else if (attempts.length === 0) console.log(`no attempts in ${collectorDir(settings)} for this query`);
  else {
    const rows = [['time (UTC)', 'door', 'decision', 'identity', 'trigger', 'id'],
      ...attempts.map((a) => [a.ts.replace('T', ' ').replace(/\.\d+Z$/, ''), a.door ?? '?', a.decision, a.identity ?? '-', a.trigger ?? '-', a.id])];
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    console.log(rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n'));
    console.log(`\n${attempts.length} attempt(s)`);
  }
  if (result.skippedLines > 0) console.error(`facegate fleet audit: skipped ${result.skippedLines} damaged line(s)`);
  return 0;
}
