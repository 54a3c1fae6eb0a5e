import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { evaluationPlotSpec, renderEvaluationPlot, type EvaluationPlotData } from '../../src/evaluation/plot/roc.js';
import { renderSvg } from '../../src/evaluation/plot/render.js';

const dir = mkdtempSync(join(tmpdir(), 'facegate-plot-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Overlapping genuine (high) and impostor (low) scores from a seeded generator. */
function syntheticScores(pairs: number): EvaluationPlotData {
  let state = 42;
  const next = () => (state = (state * 16807) % 2147483647) / 2147483647;
  const scores: number[] = [];
  const labels: boolean[] = [];
  for (let i = 0; i < pairs; i++) {
    const genuine = i % 2 === 0;
    const logit = (genuine ? 1.5 : -1.5) + 2 * (next() - 0.5) * 2;
    scores.push(1 / (1 + Math.exp(-logit)));
    labels.push(genuine);
  }
  return { scores, labels, thresholds: [{ name: 'detection (model)', value: 0.5 }, { name: 'EER', value: 0.47 }], title: 'synthetic pairs' };
}

test('writes a PNG whose size follows the chart layout and the scale', async () => {
  const data = syntheticScores(400);
  const file = join(dir, 'nested', 'plot.png');
  const reported = await renderEvaluationPlot(data, file);
  const meta = await sharp(file).metadata();
  assert.equal(meta.format, 'png');
  assert.equal(meta.width, reported.width);
  assert.equal(meta.height, reported.height);
  // Two 360 px charts side by side plus axes and legends: wider than tall, and at scale 2 more than 2 x 720 px.
  assert.ok(meta.width! > 1440 && meta.width! > meta.height!, `${meta.width}x${meta.height}`);

  const single = await renderEvaluationPlot(data, join(dir, 'single.png'), { scale: 1 });
  assert.ok(Math.abs(single.width * 2 - reported.width) <= 2, `scale 1 ${single.width} vs scale 2 ${reported.width}`);
});

test('the picture is not blank: both pair colours appear', async () => {
  const file = join(dir, 'colours.png');
  await renderEvaluationPlot(syntheticScores(400), file, { scale: 1 });
  const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  let greenish = 0;
  let reddish = 0;
  for (let i = 0; i < data.length; i += info.channels) {
    const [r, g, b] = [data[i]!, data[i + 1]!, data[i + 2]!];
    if (g > r + 40 && g > b + 40) greenish++;
    if (r > g + 60 && r > b + 60) reddish++;
  }
  assert.ok(greenish > 500, `genuine bars missing (${greenish} px)`);
  assert.ok(reddish > 500, `impostor bars missing (${reddish} px)`);
});

test('the SVG carries the thresholds by name and value, and the pair counts', async () => {
  const svg = await renderSvg(evaluationPlotSpec(syntheticScores(100)));
  assert.match(svg, /detection \(model\) = 0\.500/);
  assert.match(svg, /EER = 0\.470/);
  assert.match(svg, /50 genuine, 50 impostor pairs/);
});

test('refuses to draw an empty or inconsistent evaluation', () => {
  assert.throws(() => evaluationPlotSpec({ scores: [], labels: [], thresholds: [] }), /no scored pairs/);
  assert.throws(() => evaluationPlotSpec({ scores: [0.1, 0.2], labels: [true], thresholds: [] }), /differ in length/);
});
