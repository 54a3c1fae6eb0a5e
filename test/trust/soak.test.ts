import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { soak, type SoakResult } from '../../bench/soak.js';
import { repoRoot } from '../helpers/datasets.js';

// CI-sized soaks through the real composition root (simulated GPIO, a still camera, the audit log on);
// `npm run soak` runs the long version and prints the numbers.

test('2,000 attempts with a model-free verifier: RSS grows < 10 % from steady state, open files constant', () => {
  // A fresh process with V8's young generation pinned: otherwise V8 may grow it at any moment under this
  // allocation rate (10+ MB of RSS that is sizing, not a leak), and the test runner's own memory is not ours.
  const run = spawnSync(process.execPath, ['--min-semi-space-size=16', '--max-semi-space-size=16', '--import', 'tsx',
    'bench/soak.ts', '--verifier', 'fake', '--attempts', '2000'], { cwd: repoRoot, encoding: 'utf8', timeout: 50_000 });
  assert.equal(run.status, 0, run.stderr);
  const result = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as SoakResult;
  assert.equal((result.decisions.granted ?? 0) + (result.decisions.denied ?? 0), 2000);
  assert.equal(result.fdEnd, result.fdStart, 'a file handle leaked per attempt');
  assert.ok(result.rssGrowthPct < 10, `RSS grew ${result.rssGrowthPct} %: ${JSON.stringify(result)}`);
});

test('attempts through the real verifier leave the tensor count and open files exactly as they were', async () => {
  const result = await soak({ attempts: 150, verifier: 'real', warmupBatch: 20, maxWarmup: 60 });
  assert.equal(Object.values(result.decisions).reduce((a, b) => a + b, 0), 150);
  assert.equal(result.decisions.error ?? 0, 0);
  assert.ok(result.tensorsStart !== null && result.tensorsStart > 0, 'the model holds its weights as tensors');
  assert.equal(result.tensorsEnd, result.tensorsStart, 'a tensor leaked per attempt');
  assert.equal(result.fdEnd, result.fdStart);
});
