import { readFileSync } from 'node:fs';
import { initBackend } from '../model/backend.js';
import { listIdentities, makePairs, parseLfwPairs, type Identity, type Pair } from '../gallery/datasets.js';
import { embedDataset, pairMetrics, plotData, scoreDatasetPairs } from '../evaluation/evaluate.js';
import { galleryTest, type GalleryTestResult } from '../evaluation/door-test.js';
import { fingerprint, loadSiameseModel } from '../model/io.js';
import { resolveThresholds } from '../face/match.js';
import { householdTest, type HouseholdRates } from '../evaluation/household.js';
import type { Thresholds } from '../core/types.js';
import { towerKey } from '../face/pipeline.js';
import { createFaceDetector } from '../face/detect/faces.js';
import { commandSettings, errorMessage, splitArgs } from './args.js';

const USAGE = `usage: facegate evaluate --dataset DIR [--pairs FILE] [--model DIR] [--json] [--pairs-per-class N] [--seed S]
                         [--enrol-images N] [--plot FILE.png] [--cache-dir DIR] [--config FILE]
  DIR holds identity folders (DIR/<person>/<images>). Pairs: seeded, balanced genuine/impostor pairs
  (--pairs-per-class genuine pairs per person at most, default 10, and as many impostor pairs), or an LFW
  pairs.txt with --pairs. Prints accuracy (10-fold cross-validated threshold, the LFW protocol), precision,
  recall, FAR and FRR at the model's detection threshold, EER, ROC AUC, the threshold reaching FAR <= 0.1 %,
  and the door test: enrol N images (default 5) of everyone with more, probe with their other images and with
  everyone else's, report the FRR at a door FAR <= 0.1 % (gallery_frr).
  Embeddings are cached in --cache-dir (default .cache/embeddings), so a second run is fast. Exit code: 0 done, 1 error, 64 usage.`;

function intOption(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a whole number >= 1, not "${String(value)}"`);
  return n;
}

export async function run(argv: string[]): Promise<number> {
  const own = {
    dataset: { type: 'string' }, pairs: { type: 'string' }, json: { type: 'boolean' }, 'pairs-per-class': { type: 'string' },
    seed: { type: 'string' }, 'enrol-images': { type: 'string' }, plot: { type: 'string' }, 'cache-dir': { type: 'string' },
  } as const;
  const { values, positionals, settingsArgs } = splitArgs(argv, own);
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  let pairsPerClass: number, seed: number, enrolImages: number;
  try {
    if (typeof values.dataset !== 'string') throw new Error('--dataset DIR is required');
    if (positionals.length) throw new Error(`unexpected argument "${positionals[0]}"`);
    pairsPerClass = intOption(values['pairs-per-class'], 'pairs-per-class', 10);
    seed = values.seed === undefined ? 1 : intOption(values.seed, 'seed', 1);
    enrolImages = intOption(values['enrol-images'], 'enrol-images', 5);
  } catch (error) {
    console.error(`facegate evaluate: ${errorMessage(error)}\n${USAGE}`);
    return 64;
  }
  const { settings, log } = commandSettings(values, settingsArgs);
  const say = (line: string) => {
    if (!values.json) console.error(line);
  };
  try {
    const dataset = values.dataset as string;
    let identities: Identity[] = [];
    let pairs: Pair[];
    if (typeof values.pairs === 'string') {
      pairs = parseLfwPairs(readFileSync(values.pairs, 'utf8'), dataset);
      try {
        identities = listIdentities(dataset);
      } catch {
        identities = [];
      }
    } else {
      identities = listIdentities(dataset);
      pairs = makePairs(identities, { pairsPerClass, seed });
    }
    const backend = await initBackend(settings.model.backend, log);
    const model = await loadSiameseModel(settings.model.dir);
    const modelFingerprint = await fingerprint(settings.model.dir);
    const thresholds = resolveThresholds(settings.model, model);
    const detector = await createFaceDetector(settings.vision, { log, model: model.metadata });
    const files = [...new Set([...pairs.flatMap((p) => [p.a, p.b]), ...identities.flatMap((i) => i.images)])];
    say(`embedding ${files.length} images (cached after the first run)...`);
    let lastReport = 0;
    const embeddings = await embedDataset(model, detector, towerKey(model, modelFingerprint), settings.vision, files, {
      log,
      ...(typeof values['cache-dir'] === 'string' ? { cacheDir: values['cache-dir'] } : {}),
      onProgress: (done, total) => {
        // Progress goes to stderr even with --json (stdout keeps the one JSON object): a first run takes minutes.
        if (Date.now() - lastReport > 5000) {
          lastReport = Date.now();
          console.error(`  embedded ${done}/${total}`);
        }
      },
    });
    const scored = scoreDatasetPairs(model, pairs, embeddings);
    if (scored.labels.length === 0) throw new Error('no pair could be scored: no faces were found in the images');
    const metrics = pairMetrics(scored.scores, scored.labels, thresholds.detection);
    let door: GalleryTestResult | null = null;
    if (identities.some((i) => i.images.length > enrolImages)) {
      door = galleryTest(model, identities, embeddings, { enrolImages, verification: thresholds.verification, detection: thresholds.detection });
    }
    // The door's FAR as the household grows (1:N), with the thresholds the verifier would use for each size.
    const embeddingOf = (file: string) => {
      const entry = embeddings.byFile.get(file);
      return entry?.kind === 'embedding' ? entry.embedding : null;
    };
    const households = (thresholdsFor: (n: number) => Thresholds) =>
      identities.some((i) => i.images.length > enrolImages) ? householdTest(model, identities, embeddingOf, { enrolImages, sizes: HOUSEHOLD_SIZES, thresholdsFor, seed }) : [];
    const oneToN = households((n) => resolveThresholds(settings.model, model, n));
    const oneToNFixed = model.metadata.openSet ? households(() => thresholds) : null;
    const result = {
      ...metrics,
      gallery_frr: door ? door.gallery_frr : null,
      model: `${model.metadata.tower}@${modelFingerprint.slice(0, 12)}`,
      backend: backend.name,
      detector: detector.name,
      thresholds,
      images: files.length,
      no_face: { images: embeddings.noFace.length, unreadable: embeddings.unreadable.length, pairs_skipped: scored.skipped.length },
      door,
      one_to_n_households: oneToN,
      ...(oneToNFixed ? { one_to_n_households_fixed_thresholds: oneToNFixed } : {}),
    };
    if (values.json) console.log(JSON.stringify(result));
    else printReport(result, dataset);
    if (typeof values.plot === 'string') {
      const { renderEvaluationPlot } = await import('../evaluation/plot/roc.js');
      await renderEvaluationPlot({ ...plotData(scored, metrics), title: `${dataset.split('/').pop()}: ${metrics.pairs} pairs, AUC ${metrics.auc.toFixed(4)}` }, values.plot);
      say(`plot written to ${values.plot}`);
    }
    model.dispose();
    return 0;
  } catch (error) {
    console.error(`facegate evaluate: ${errorMessage(error)}`);
    return 1;
  }
}

/** Household sizes the 1:N door test reports (issue 14: the door's FAR must not grow with the household). */
const HOUSEHOLD_SIZES = [5, 20, 100];

function pct(x: number): string {
  return `${(x * 100).toFixed(2)} %`;
}

function printReport(r: ReturnType<typeof pairMetrics> & { one_to_n_households: HouseholdRates[]; one_to_n_households_fixed_thresholds?: HouseholdRates[]; gallery_frr: number | null; door: GalleryTestResult | null; no_face: { images: number; unreadable: number; pairs_skipped: number }; model: string; backend: string; detector: string }, dataset: string): void {
  const lines = [
    `dataset ${dataset}; model ${r.model}; ${r.backend}; detector ${r.detector}`,
    `pairs: ${r.pairs} scored (${r.genuine} genuine, ${r.impostor} impostor); ${r.no_face.pairs_skipped} skipped: ${r.no_face.images} images without a face, ${r.no_face.unreadable} unreadable`,
    `accuracy ${pct(r.accuracy)} +- ${pct(r.accuracy_std)} (10-fold cross-validated threshold); best single threshold ${pct(r.best_accuracy)} at ${r.best_threshold.toFixed(4)}`,
    `at the detection threshold ${r.detection_threshold}: precision ${pct(r.precision)}, recall ${pct(r.recall)}, FAR ${pct(r.far)}, FRR ${pct(r.frr)}, accuracy ${pct(r.accuracy_at_detection_threshold)}`,
    `EER ${pct(r.eer)} at ${r.eer_threshold.toFixed(4)}; ROC AUC ${r.auc.toFixed(4)}`,
    `FAR <= 0.1 %: threshold ${r.threshold.toFixed(4)}, FRR there ${pct(r.frr_at_threshold)}`,
  ];
  if (r.door) {
    const d = r.door;
    const n = d.one_to_n;
    lines.push(
      `door test: ${d.enrolled} people enrolled with 5 images; per person ${d.genuine_attempts} genuine and ${d.impostor_attempts} impostor claims`,
      `  FAR <= 0.1 % needs detection ${d.detection_threshold_for_far.toFixed(4)}: FAR ${pct(d.gallery_far)}, FRR ${pct(d.gallery_frr)} (gallery_frr)`,
      `  at the model's thresholds (${d.at_model_thresholds.detection}/${d.at_model_thresholds.verification}): FAR ${pct(d.at_model_thresholds.far)}, FRR ${pct(d.at_model_thresholds.frr)}`,
      `  whole gallery at once (1:N, ${n.impostor_attempts} outsiders): FAR <= 0.1 % needs ${n.detection_threshold_for_far.toFixed(4)}, FRR ${pct(n.frr)}; at the model's thresholds FAR ${pct(n.at_model_thresholds.far)}, FRR ${pct(n.at_model_thresholds.frr)}, wrong person ${n.at_model_thresholds.misidentified}`,
    );
  } else {
    lines.push('door test: skipped (nobody has more images than --enrol-images)');
  }
  const household = (label: string, rows: HouseholdRates[] | undefined) => {
    for (const h of rows ?? []) {
      lines.push(`  ${label} ${String(h.people).padStart(3)} people (${h.households} households): detection ${h.detection.toFixed(4)}: FAR ${pct(h.far)} of ${h.stranger_attempts} strangers, FRR ${pct(h.frr)} of ${h.member_attempts} members (${h.misidentified} as someone else)`);
    }
  };
  if (r.one_to_n_households.length) lines.push('1:N door by household size (strangers against everyone enrolled):');
  household('door', r.one_to_n_households);
  household('fixed thresholds', r.one_to_n_households_fixed_thresholds);
  console.log(lines.join('\n'));
}
