/**
 * Issue 12's yardstick for the broker: a 50 MB publish to a command topic, and a signed unlock sent while it
 * streams in. Reports, per broker, how far the bridge process's RSS rose (sampled every 10 ms) above
 * where it started, and how long the signed unlock took to be answered
 * (medians of --runs). The test test/mqtt/packet-size.test.ts asserts the memory bound; times are only reported.
 * Usage: npm run bench:mqtt -- [--runs 3] [--mb 50]      (JSON on stdout)
 */
import { parseArgs } from 'node:util';
import { startMqttBridge } from '../src/mqtt/bridge.js';
import { signUnlock } from '../src/mqtt/commands.js';
import { topicsFor } from '../src/mqtt/topics.js';
import { fakePort, mosquittoAvailable, observe, quietLog, startAedes, testSettings, useMosquitto, type TestBroker } from '../test/helpers/broker.js';
import { floodPublish, peakRssGrowthMb } from '../test/helpers/flood.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' }, mb: { type: 'string', default: '50' } } });
const runs = Number(values.runs);
const bytes = Number(values.mb) * 1024 * 1024;
const SECRET = 'bench secret, long enough to sign';

/** One flood with a signed unlock sent into it. */
async function once(broker: TestBroker, protocolVersion: 4 | 5): Promise<{ rssMb: number; answeredMs: number }> {
  const t = testSettings(broker.url, { 'mqtt.unlock.enabled': true, 'mqtt.unlock.secret': SECRET, 'mqtt.homeAssistant.enabled': false, 'mqtt.protocolVersion': protocolVersion });
  const topics = topicsFor(t.settings);
  const bridge = await startMqttBridge(t.settings, quietLog(), fakePort({ unlock: async () => ({ ok: true }) }));
  const watcher = await observe(broker.url, [topics.result('unlock'), topics.availability]);
  try {
    await watcher.next(topics.availability, (p) => p.toString() === 'online');
    let answeredMs = 0;
    const work = async () => {
      const flood = floodPublish(broker.url, topics.command('unlock'), bytes);
      // Sent while the flood streams through the broker: the signed command must not wait behind it for long.
      await new Promise((resolve) => setTimeout(resolve, 20));
      const id = `bench-${Date.now()}`;
      const ts = Date.now();
      const sentAt = performance.now();
      await watcher.client.publishAsync(topics.command('unlock'), JSON.stringify({ id, ts, hmac: signUnlock(SECRET, t.settings.deviceId, id, ts) }), { qos: 1 });
      await watcher.next(topics.result('unlock'), (p) => p.includes(id));
      answeredMs = performance.now() - sentAt;
      await flood;
    };
    const rssMb = await peakRssGrowthMb(work);
    return { rssMb, answeredMs };
  } finally {
    await bridge.close();
    await watcher.close();
    t.cleanup();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const report: Record<string, unknown> = { mb: Number(values.mb), runs };
const cases: [string, () => Promise<TestBroker>, 4 | 5][] = [['embedded aedes', startAedes, 4]];
if (await mosquittoAvailable()) cases.push(['mosquitto 3.1.1', useMosquitto, 4], ['mosquitto 5', useMosquitto, 5]);
for (const [label, start, version] of cases) {
  const results = [];
  for (let i = 0; i < runs; i += 1) {
    const broker = await start();
    try {
      results.push(await once(broker, version));
    } finally {
      await broker.close();
    }
  }
  report[label] = {
    rssGrowthMbMedian: +median(results.map((r) => r.rssMb)).toFixed(1),
    answeredMsMedian: +median(results.map((r) => r.answeredMs)).toFixed(0),
    answeredMs: results.map((r) => +r.answeredMs.toFixed(0)),
  };
  process.stderr.write(`${label}: ${JSON.stringify(report[label])}\n`);
}
console.log(JSON.stringify(report));
