import { test } from 'node:test';
import assert from 'node:assert/strict';
import { soak } from '../../bench/soak.js';

// CI-sized soaks through the real composition root (simulated GPIO, a still camera, the audit log on);
// `npm run soak` runs the long version and prints the numbers.

test('2,000 attempts with a model-free verifier: RSS grows < 10 % from steady state, open files constant', async () => {
  const result = await soak({ attempts: 2000, verifier: 'fake' });
  assert.equal((result.decisions.granted ?? 0) + (result.decisions.denied ?? 0), 2000);
  assert.equal(result.fdEnd, result.fdStart, 'a file handle leaked per attempt');
  assert.ok(result.rssGrowthPct < 10, `RSS grew ${result.rssGrowthPct} % (${result.rssStartMB} -> ${result.rssEndMB} MB)`);
});

test('attempts through the real verifier leave the tensor count and open files exactly as they were', async () => {
  const result = await soak({ attempts: 150, verifier: 'real', warmupBatch: 20, maxWarmup: 60 });
  assert.equal(Object.values(result.decisions).reduce((a, b) => a + b, 0), 150);
  assert.equal(result.decisions.error ?? 0, 0);
  assert.ok(result.tensorsStart !== null && result.tensorsStart > 0, 'the model holds its weights as tensors');
  assert.equal(result.tensorsEnd, result.tensorsStart, 'a tensor leaked per attempt');
  assert.equal(result.fdEnd, result.fdStart);
});
