import type { TopLevelSpec } from 'vega-lite';
import { confusionAt, rocCurve } from '../metrics.js';
import { writePng, type RenderOptions } from './render.js';

/**
 * `facegate evaluate --plot FILE.png`: the ROC curve beside the genuine and impostor score histograms, with
 * the thresholds that were chosen marked on both, so one picture answers "how separable are the scores and
 * where does the door cut".
 */

export interface MarkedThreshold {
  /** Shown in the legend, e.g. "detection (model)" or "EER". */
  name: string;
  value: number;
}

export interface EvaluationPlotData {
  /** One head score per pair. */
  scores: ArrayLike<number>;
  /** true = genuine (same person), false = impostor. */
  labels: ArrayLike<boolean>;
  thresholds: MarkedThreshold[];
  /** Headline, e.g. "lfw-dev, 600 pairs, AUC 0.97". */
  title?: string;
}

const CHART_WIDTH = 360;
const CHART_HEIGHT = 300;
const BINS = 40;
/** Enough ROC points for a smooth line; thousands of pairs would otherwise give thousands of vertices. */
const MAX_ROC_POINTS = 400;

function thinned<T>(points: T[]): T[] {
  if (points.length <= MAX_ROC_POINTS) return points;
  const step = (points.length - 1) / (MAX_ROC_POINTS - 1);
  return Array.from({ length: MAX_ROC_POINTS }, (_, i) => points[Math.round(i * step)]!);
}

export function evaluationPlotSpec(data: EvaluationPlotData): TopLevelSpec {
  if (data.scores.length === 0) throw new Error('nothing to plot: the evaluation produced no scored pairs');
  if (data.scores.length !== data.labels.length) throw new Error('scores and labels differ in length');

  const pairs = Array.from(data.scores, (score, i) => ({ score, kind: data.labels[i] ? 'genuine' : 'impostor' }));
  const genuine = pairs.filter((p) => p.kind === 'genuine').length;
  // A door lives at FAR <= 0.1 %: on a linear axis that corner is a few pixels wide, so FAR is drawn on a log
  // axis down to the decade below one impostor pair (FAR 0 is drawn there, as "no false accept seen").
  const farFloor = 10 ** Math.floor(Math.log10(1 / Math.max(pairs.length - genuine, 1)));
  const atLeastFloor = (far: number) => Math.max(far, farFloor);
  const roc = rocCurve(data.scores, data.labels);
  const rocPoints = thinned(roc.far.map((far, i) => ({ far: atLeastFloor(far), tar: roc.tar[i]! })));
  const marks = data.thresholds.map((t) => {
    const c = confusionAt(data.scores, data.labels, t.value);
    return { name: `${t.name} = ${t.value.toFixed(3)}`, value: t.value, far: atLeastFloor(c.far), tar: c.recall };
  });
  const decades = -Math.log10(farFloor);
  const chance = Array.from({ length: 41 }, (_, i) => 10 ** (-decades + (decades * i) / 40)).map((x) => ({ x, y: x }));
  let low = Infinity;
  let high = -Infinity;
  for (const p of pairs) {
    low = Math.min(low, p.score);
    high = Math.max(high, p.score);
  }
  for (const m of marks) {
    low = Math.min(low, m.value);
    high = Math.max(high, m.value);
  }
  if (high - low < 1e-6) high = low + 1;
  // Head scores are probabilities: a fixed [0, 1] axis reads best and compares across models.
  const extent = low >= 0 && high <= 1 ? [0, 1] : [low, high];

  const countTicks = [0, 1, 10, 100, 1000, 10000, 100000].filter((t) => t <= pairs.length);
  const thresholdColor = { field: 'name', type: 'nominal', title: 'threshold', scale: { scheme: 'dark2' } } as const;

  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: data.title ?? 'Verification scores', fontSize: 16 },
    config: { font: 'DejaVu Sans, sans-serif', view: { stroke: '#ccc' }, axis: { labelFontSize: 11, titleFontSize: 12 }, legend: { orient: 'bottom', direction: 'vertical', labelLimit: 320, labelFontSize: 11, titleFontSize: 12 } },
    background: 'white',
    padding: 12,
    hconcat: [
      {
        title: `ROC (${genuine} genuine, ${pairs.length - genuine} impostor pairs)`,
        width: CHART_WIDTH,
        height: CHART_HEIGHT,
        layer: [
          {
            data: { values: chance },
            mark: { type: 'line', strokeDash: [4, 4], color: '#bbb' },
            encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
          },
          {
            data: { values: rocPoints },
            mark: { type: 'line', color: '#1f77b4', strokeWidth: 2, interpolate: 'step-after' },
            encoding: {
              x: {
                field: 'far', type: 'quantitative', title: 'false accept rate (FAR, log scale)',
                scale: { type: 'log', domain: [farFloor, 1] }, axis: { format: '~%' },
              },
              y: { field: 'tar', type: 'quantitative', title: 'true accept rate (1 - FRR)', scale: { domain: [0, 1] } },
            },
          },
          {
            data: { values: marks },
            mark: { type: 'point', filled: true, size: 110, shape: 'diamond' },
            encoding: { x: { field: 'far', type: 'quantitative' }, y: { field: 'tar', type: 'quantitative' }, color: thresholdColor },
          },
        ],
      },
      {
        title: 'Score histograms',
        width: CHART_WIDTH,
        height: CHART_HEIGHT,
        layer: [
          {
            data: { values: pairs },
            mark: { type: 'bar', opacity: 0.55, binSpacing: 0 },
            encoding: {
              x: { field: 'score', type: 'quantitative', bin: { maxbins: BINS, extent }, title: 'pair score' },
              // Symlog: good models pile almost every pair into the end bins; the overlapping tails decide the thresholds.
              y: { aggregate: 'count', type: 'quantitative', title: 'pairs (symlog scale)', stack: null, scale: { type: 'symlog' }, axis: { values: countTicks } },
              fill: { field: 'kind', type: 'nominal', title: 'pairs', scale: { domain: ['genuine', 'impostor'], range: ['#2ca02c', '#d62728'] } },
            },
          },
          {
            data: { values: marks },
            mark: { type: 'rule', strokeWidth: 2, strokeDash: [6, 3] },
            encoding: { x: { field: 'value', type: 'quantitative' }, color: thresholdColor },
          },
        ],
      },
    ],
    resolve: { scale: { color: 'independent' } },
  } as TopLevelSpec;
}

/** Writes the evaluation plot as a PNG; returns its pixel size. */
export async function renderEvaluationPlot(data: EvaluationPlotData, file: string, options?: RenderOptions): Promise<{ width: number; height: number }> {
  return writePng(evaluationPlotSpec(data), file, options);
}
