/**
 * Issue 13's door figures in full: 20 presses per stream through the real daemon with the rpicam driver fed by
 * the stand-in rpicam-vid (test/fixtures/fake-rpicam-vid, 10 fps), on ORL PROXIES (see
 * src/evaluation/pad/scenario.ts). Prints one JSON line: per stream the decisions, and the medians of the
 * capture time (the burst), the liveness stage and the whole attempt, all from this one run.
 *
 *   node --import tsx bench/pad-door.ts [--tries 20] [--subject s16]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeDoorScenario, SCENARIO_STREAMS } from '../src/evaluation/pad/scenario.js';
import { median } from '../src/evaluation/metrics.js';
import { needOrl, orlDir } from '../test/helpers/datasets.js';
import { pressAtDoor } from '../test/helpers/pad-door.js';

const { values } = parseArgs({ options: { tries: { type: 'string', default: '20' }, subject: { type: 'string', default: 's16' } } });
const missing = needOrl();
if (missing) {
  console.error(missing);
  process.exit(2);
}
const root = await mkdtemp(join(tmpdir(), 'facegate-pad-bench-'));
try {
  const scenario = await writeDoorScenario(orlDir, join(root, 'scenario'), [values.subject!, 's2', 's5']);
  const report: Record<string, unknown> = { proxies: 'ORL-generated proxies, not real prints or people', subject: values.subject };
  const runs: Array<[string, string, number, string]> = [
    // The baseline: the same print with liveness off (one grab, no burst) opens the door.
    ['still-print, liveness off', 'still-print', 5, 'off'],
    ...SCENARIO_STREAMS.map((stream): [string, string, number, string] => [stream, stream, Number(values.tries), 'auto']),
  ];
  for (const [label, stream, tries, liveness] of runs) {
    const { events } = await pressAtDoor(scenario, stream as (typeof SCENARIO_STREAMS)[number], { tries, stateDir: join(root, label.replace(/\W+/g, '-')), liveness });
    const scores = events.map((e) => (e.liveness && e.liveness !== 'not_checked' ? e.liveness.scores : {}));
    report[label] = {
      decisions: count(events.map((e) => e.decision)),
      medianMs: {
        capture: round(median(events.map((e) => e.timings.capture ?? 0))),
        liveness: round(median(events.map((e) => e.timings.liveness ?? 0))),
        total: round(median(events.map((e) => e.timings.total))),
      },
      parallax: range(scores.map((s) => s.parallax ?? Number.NaN)),
      change: range(scores.map((s) => s.change ?? Number.NaN)),
    };
  }
  console.log(JSON.stringify(report));
} finally {
  await rm(root, { recursive: true, force: true });
}

function count(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}
function round(v: number): number {
  return Math.round(v);
}
function range(values: number[]): [number, number] {
  const ok = values.filter(Number.isFinite);
  return [Math.min(...ok), Math.max(...ok)];
}
