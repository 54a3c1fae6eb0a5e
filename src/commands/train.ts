import cliProgress from 'cli-progress';
import { initBackend } from '../model/backend.js';
import { DEFAULT_TOWER, isTowerId, TOWER_IDS, TOWERS, towerKind } from '../model/tower-registry.js';
import type { BatchReport, EpochReport } from '../training/train.js';
import { trainSiamese, type TrainProgress, type TrainRequest } from '../training/train-run.js';
import { ConfigError } from '../config/index.js';
import { commandSettings, splitArgs } from './args.js';

/**
 * `facegate train`: flags -> a checked TrainRequest -> trainSiamese (src/training/train-run.ts), with progress on
 * stderr and the JSON summary on stdout. The data preparation lives in src/training/train-data.ts.
 */

/** One help line per registered tower (tower-registry.ts), so a new tower shows up here by itself. */
// Towers a model folder can name but training cannot build (the opt-in ONNX one) are left out.
const TRAINABLE = TOWER_IDS.filter((id) => TOWERS[id].trainable !== false);
const TOWER_HELP = TRAINABLE.map((id) => `                         ${id}${id === DEFAULT_TOWER ? ' (default)' : ''}: ${TOWERS[id].doc}`).join('\n');

const USAGE = `usage: facegate train --out DIR [--tower ${TRAINABLE.join('|')}] (seed way | identities) [options]
Seed way (the tutorial's data): pairs (anchor, positive) = 1 and (anchor, negative) = 0
  --anchor DIR --positive DIR --negative DIR   e.g. data/anchor, data/positive (facegate collect), ../shared/datasets/lfw-dev
  --per-class N        pairs of each label at most (default 300, the seed's take(300))
  --augment N          augmented variants per anchor/positive image (default 9, the seed's; 0 = none)
Identities: --dataset DIR   folders of people (e.g. ../shared/datasets/lfw-dev) -> seeded balanced pairs
  --per-class N        genuine pairs per person at most (default 20), as many impostor pairs
Common:
  --tower T            the embedding tower; pretrained ones train only a head on cached embeddings:
${TOWER_HELP}
  --epochs N           default 50 (seed towers) / 60 (head)
  --batch N            default 16 (seed towers) / 64 (head)
  --learning-rate F    Adam learning rate, default 1e-4 (seed towers, the seed's) / 0.01 (head)
  --split F            fraction of pairs (seed way) or people (identities) to train on, default 0.7; the rest is held out
  --seed N             seeds everything: split, pairs, augmentation, initial weights, batch order (default 1)
  --checkpoint-every N epochs between checkpoints (default 10); --resume continues from <out>.checkpoint
  --no-detect          images are face crops already (collect's *.crop.jpg are always taken as crops)
  --config FILE and settings flags (--detector, --backend, ...)
Ctrl-C stops after the current batch and writes a checkpoint; <out> then holds a usable model.`;

const OWN_OPTIONS = {
  out: { type: 'string' },
  tower: { type: 'string' },
  anchor: { type: 'string' },
  positive: { type: 'string' },
  negative: { type: 'string' },
  dataset: { type: 'string' },
  'per-class': { type: 'string' },
  augment: { type: 'string' },
  epochs: { type: 'string' },
  batch: { type: 'string' },
  'learning-rate': { type: 'string' },
  split: { type: 'string' },
  seed: { type: 'string' },
  'checkpoint-every': { type: 'string' },
  resume: { type: 'boolean' },
  'no-detect': { type: 'boolean' },
} as const;

class UsageError extends Error {}

type TrainFlags = Partial<Record<keyof typeof OWN_OPTIONS | 'config' | 'help', string | boolean>>;

function numberOption(value: unknown, name: string, fallback: number, check: (n: number) => boolean, rule: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (typeof value !== 'string' || value.trim() === '' || !check(n)) throw new UsageError(`--${name} must be ${rule}, got "${String(value)}"`);
  return n;
}

const isCount = (n: number) => Number.isInteger(n) && n >= 1;

/** Turns flags into a checked request; every mistake is a UsageError naming the flag. */
export function parseTrainRequest(values: TrainFlags): TrainRequest {
  const str = (k: keyof typeof OWN_OPTIONS) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const out = str('out');
  if (!out) throw new UsageError('--out DIR is required (the model folder to write)');
  const tower = str('tower') ?? DEFAULT_TOWER;
  if (!isTowerId(tower) || TOWERS[tower].trainable === false) throw new UsageError(`--tower must be one of ${TRAINABLE.join(', ')}, got "${tower}"`);
  const head = towerKind(tower).load !== undefined;
  if (head && values.resume === true) throw new UsageError('--resume is for seed towers; a pretrained tower\'s head retrains from scratch in about a minute');
  const seedWay = [str('anchor'), str('positive'), str('negative')];
  const dataset = str('dataset');
  if (dataset && seedWay.some(Boolean)) throw new UsageError('give either --dataset or --anchor/--positive/--negative, not both');
  if (!dataset && !seedWay.every(Boolean)) throw new UsageError('give --anchor, --positive and --negative (the seed way) or --dataset DIR');
  const data: TrainRequest['data'] = dataset
    ? { kind: 'identities', dir: dataset, pairsPerClass: numberOption(values['per-class'], 'per-class', 20, isCount, 'a whole number >= 1') }
    : {
        kind: 'seed',
        anchor: seedWay[0]!,
        positive: seedWay[1]!,
        negative: seedWay[2]!,
        perClass: numberOption(values['per-class'], 'per-class', 300, isCount, 'a whole number >= 1'),
        augment: numberOption(values.augment, 'augment', 9, (n) => Number.isInteger(n) && n >= 0 && n <= 50, 'a whole number from 0 to 50'),
      };
  return {
    out,
    tower,
    data,
    epochs: numberOption(values.epochs, 'epochs', head ? 60 : 50, isCount, 'a whole number >= 1'),
    batchSize: numberOption(values.batch, 'batch', head ? 64 : 16, isCount, 'a whole number >= 1'),
    learningRate: numberOption(values['learning-rate'], 'learning-rate', head ? 0.01 : 1e-4, (n) => n > 0 && n < 10, 'a number above 0'),
    split: numberOption(values.split, 'split', 0.7, (n) => n > 0 && n < 1, 'a fraction between 0 and 1'),
    seed: numberOption(values.seed, 'seed', 1, (n) => Number.isInteger(n) && n >= 0, 'a whole number >= 0'),
    checkpointEvery: numberOption(values['checkpoint-every'], 'checkpoint-every', 10, (n) => Number.isInteger(n) && n >= 0, 'a whole number >= 0'),
    resume: values.resume === true,
    detect: values['no-detect'] !== true,
  };
}

export async function run(argv: string[]): Promise<number> {
  let request: TrainRequest;
  let settingsArgs: string[];
  let values: TrainFlags;
  try {
    ({ values, settingsArgs } = splitArgs(argv, OWN_OPTIONS, { positionalsAreSettings: true }));
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    request = parseTrainRequest(values);
  } catch (error) {
    console.error(`facegate train: ${(error as Error).message}\n\n${USAGE}`);
    // A flag without its value is a configuration error (78) as in every command; the rest is usage (64).
    return error instanceof ConfigError ? error.exitCode : 64;
  }
  // Progress goes to stderr (bar or lines); logs too, so stdout stays free for the final JSON summary.
  const { settings, log } = commandSettings(values, settingsArgs);
  await initBackend(settings.model.backend, log);

  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts > 1) process.exit(130); // a second Ctrl-C means now
    process.stderr.write('\nstopping after the current batch (Ctrl-C again to quit at once)...\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    const summary = await trainSiamese(request, settings, { log, signal: controller.signal, progress: new Progress(process.stderr) });
    console.log(JSON.stringify(summary, null, 2));
    return summary.stopped ? 130 : 0;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/** Where progress goes: a bar when it is a TTY, plain lines otherwise. */
type ProgressStream = NodeJS.WritableStream & { isTTY?: boolean };

/** Epoch progress: a cli-progress bar with ETA, loss, precision and recall on a terminal, plain lines elsewhere. */
class Progress implements TrainProgress {
  private bar: cliProgress.SingleBar | null = null;
  private readonly tty: boolean;
  private readonly started = Date.now();

  constructor(private readonly stream: ProgressStream) {
    this.tty = stream.isTTY === true;
  }

  phase(text: string): void {
    this.stopBar();
    this.stream.write(`${text}\n`);
  }

  private lastCount = 0;

  /** Reports every 500 items (callers report at uneven steps, e.g. per batch) and at the end. */
  count(what: string, done: number, total: number): void {
    if (done !== total && Math.floor(done / 500) === Math.floor(this.lastCount / 500)) return;
    this.lastCount = done;
    this.stream.write(`  ${what} ${done}/${total}\n`);
  }

  batch(report: BatchReport, epochs: number): void {
    if (!this.tty) return;
    const payload = { epoch: report.epoch, epochs, loss: report.loss.toFixed(4), precision: report.precision.toFixed(3), recall: report.recall.toFixed(3) };
    if (!this.bar) {
      this.bar = new cliProgress.SingleBar(
        {
          stream: this.stream as NodeJS.WritableStream,
          format: 'epoch {epoch}/{epochs} [{bar}] {value}/{total} batches | ETA {eta_formatted} | loss {loss} precision {precision} recall {recall}',
          hideCursor: true,
          etaBuffer: 20,
          clearOnComplete: true,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(report.batches, 0, payload);
    }
    this.bar.update(report.batch, payload);
  }

  epoch(report: EpochReport): void {
    this.stopBar();
    const elapsed = (Date.now() - this.started) / 1000;
    const remaining = (report.epochs - report.epoch) * report.seconds;
    this.stream.write(
      `epoch ${report.epoch}/${report.epochs}  loss ${report.loss.toFixed(4)}  precision ${report.precision.toFixed(3)}  recall ${report.recall.toFixed(3)}` +
        `  ${report.seconds.toFixed(1)} s  (elapsed ${formatSeconds(elapsed)}, ETA ${formatSeconds(remaining)})\n`,
    );
  }

  private stopBar(): void {
    this.bar?.stop();
    this.bar = null;
  }
}

function formatSeconds(s: number): string {
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}
