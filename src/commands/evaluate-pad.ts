import { performance } from 'node:perf_hooks';
import { commandSettings, errorMessage, splitArgs } from './args.js';
import type { PadFigures, PadSample } from '../evaluation/pad/metrics.js';
import type { Presentation } from '../evaluation/pad/presentations.js';

const USAGE = `usage: facegate evaluate-pad --bona-fide DIR --attack DIR [--json] [--config FILE] [settings flags]
Presentation-attack detection figures (ISO/IEC 30107-3) of the configured liveness check on your own captures:
  --bona-fide DIR   real people: image files (single images) and folders of frames (bursts)
  --attack DIR      one sub-folder per attack type (print, phone, ...), each holding images and/or burst folders
Prints, separately for single images and for bursts: APCER per attack type, BPCER, and APCER at BPCER 1 % and 5 %
(the threshold on the liveness score that keeps BPCER there). Presentations without a face are counted apart.
liveness.mode "auto" or "off" evaluates "burst". Capture presentations with: facegate collect --attack TYPE
The figures are only as good as the presentations: generated proxies are not real prints, phones or people.`;

const pct = (v: number) => (Number.isFinite(v) ? `${(100 * v).toFixed(1)} %` : 'n/a');

function table(kind: string, f: PadFigures): string {
  const lines = [`${kind}: BPCER ${pct(f.bonaFide.bpcer)} (${f.bonaFide.presentations} bona fide, ${f.bonaFide.noFace} without a face)`];
  for (const [type, a] of Object.entries(f.attacks)) {
    const at1 = f.atBpcer['1%']?.apcer[type];
    const at5 = f.atBpcer['5%']?.apcer[type];
    lines.push(`  ${type.padEnd(16)} APCER ${pct(a.apcer).padStart(8)}   at BPCER 1 %: ${pct(at1 ?? Number.NaN).padStart(8)}   at BPCER 5 %: ${pct(at5 ?? Number.NaN).padStart(8)}   (${a.presentations} presentations, ${a.noFace} without a face)`);
  }
  lines.push(`  ${'worst type'.padEnd(16)} APCER ${pct(f.apcerMax).padStart(8)}   at BPCER 1 %: ${pct(f.atBpcer['1%']?.apcerMax ?? Number.NaN).padStart(8)}   at BPCER 5 %: ${pct(f.atBpcer['5%']?.apcerMax ?? Number.NaN).padStart(8)}`);
  return lines.join('\n');
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals, settingsArgs } = splitArgs(argv, { 'bona-fide': { type: 'string' }, attack: { type: 'string' }, json: { type: 'boolean' } });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const bonaFideDir = values['bona-fide'];
  const attackDir = values.attack;
  if (typeof bonaFideDir !== 'string' || typeof attackDir !== 'string' || positionals.length) {
    console.error(`facegate evaluate-pad: ${positionals.length ? `unexpected argument "${positionals[0]}"` : '--bona-fide DIR and --attack DIR are required'}\n${USAGE}`);
    return 64;
  }
  const { settings, log } = commandSettings(values, settingsArgs);
  const { listAttackTypes, listPresentations, judgePresentation } = await import('../evaluation/pad/presentations.js');
  let bonaFide: Presentation[];
  let attacks: Record<string, Presentation[]>;
  try {
    bonaFide = await listPresentations(bonaFideDir);
    attacks = await listAttackTypes(attackDir);
  } catch (error) {
    console.error(`facegate evaluate-pad: ${errorMessage(error)}`);
    return 3;
  }
  if (bonaFide.length === 0 || Object.keys(attacks).length === 0) {
    console.error(`facegate evaluate-pad: ${bonaFide.length === 0 ? `no presentations in ${bonaFideDir}` : `no attack presentations in ${attackDir}`}`);
    return 3;
  }
  const { initBackend } = await import('../model/backend.js');
  const { createFaceDetector } = await import('../face/detect/faces.js');
  const { livenessEntry } = await import('../face/liveness/stage.js');
  const { padFigures } = await import('../evaluation/pad/metrics.js');
  const { median } = await import('../evaluation/metrics.js');
  await initBackend(settings.model.backend as never, log);
  const detector = await createFaceDetector(settings.vision, { log });
  const mode = settings.liveness.mode === 'auto' || settings.liveness.mode === 'off' ? 'burst' : settings.liveness.mode;
  const check = await livenessEntry(mode).create({ settings: settings.liveness, detector });

  const checkMs: number[] = [];
  const judge = async (p: Presentation) => {
    const t0 = performance.now();
    const sample = await judgePresentation(p, detector, check);
    if (p.kind === 'burst') checkMs.push(performance.now() - t0);
    return sample;
  };
  const report: Record<string, unknown> = { mode, thresholds: { still: settings.liveness.still, planar: settings.liveness.planar, motion: settings.liveness.motion } };
  const human: string[] = [];
  const refusedBonaFide: Array<{ path: string; reason: string }> = [];
  const acceptedAttacks: Array<{ path: string; type: string }> = [];
  for (const kind of ['single', 'burst'] as const) {
    const bf = bonaFide.filter((p) => p.kind === kind);
    const at: Record<string, Presentation[]> = {};
    for (const [type, list] of Object.entries(attacks)) {
      const ofKind = list.filter((p) => p.kind === kind);
      if (ofKind.length) at[type] = ofKind;
    }
    if (bf.length === 0 || Object.keys(at).length === 0) continue;
    const bfSamples: PadSample[] = [];
    for (const p of bf) {
      const sample = await judge(p);
      bfSamples.push(sample);
      // Which real presentations were refused, and why: what an installer tunes from.
      if (sample.score !== null && !sample.passed) refusedBonaFide.push({ path: p.path, reason: sample.reason ?? '' });
    }
    const atSamples: Record<string, PadSample[]> = {};
    for (const [type, list] of Object.entries(at)) {
      atSamples[type] = [];
      for (const p of list) {
        const sample = await judge(p);
        atSamples[type]!.push(sample);
        if (sample.passed) acceptedAttacks.push({ path: p.path, type });
      }
    }
    const figures = padFigures(bfSamples, atSamples);
    report[kind === 'single' ? 'singleImages' : 'bursts'] = figures;
    human.push(table(kind === 'single' ? 'single images' : 'bursts', figures));
  }
  if (checkMs.length) report.medianBurstPresentationMs = Math.round(median(checkMs));
  report.refusedBonaFide = refusedBonaFide;
  report.acceptedAttacks = acceptedAttacks;
  if (values.json) console.log(JSON.stringify(report));
  else {
    console.log(`liveness mode ${mode}; ${human.length ? '' : 'no kind (single images, bursts) has both bona fide and attack presentations'}`);
    console.log(human.join('\n\n'));
    if (checkMs.length) console.log(`\nmedian time per burst presentation (decode, detect every frame, judge): ${report.medianBurstPresentationMs} ms`);
    for (const r of refusedBonaFide) console.log(`refused bona fide: ${r.path}: ${r.reason}`);
    for (const a of acceptedAttacks) console.log(`accepted attack (${a.type}): ${a.path}`);
  }
  return 0;
}
