import type { Settings } from '../config/index.js';
import type { Logger } from '../log.js';
import { brokerCheck } from './broker.js';
import { cameraCommandCheck, cameraFramesCheck } from './camera.js';
import { gpioAccessCheck, gpioDriverCheck, gpioPinsCheck } from './gpio.js';
import { fleetCheck } from './fleet.js';
import { galleryCheck, modelCheck } from './model.js';
import { daemonAuditCheck, stateDirCheck } from './state.js';
import type { CheckResult } from './types.js';

export type CheckGroup = 'camera' | 'gpio' | 'model' | 'gallery' | 'broker' | 'state' | 'fleet';
export const CHECK_GROUPS: CheckGroup[] = ['camera', 'gpio', 'model', 'gallery', 'broker', 'state', 'fleet'];

export interface DoctorOptions {
  /** How long the camera runs before its fps is read. */
  cameraWindowMs: number;
  only?: CheckGroup[];
  log: Logger;
  /** Called as each check finishes, so a slow check does not leave the terminal silent. */
  onResult?: (result: CheckResult) => void;
}

/** Runs the checks one after another (the camera and the model both want the CPU). */
export async function runChecks(settings: Settings, options: DoctorOptions): Promise<CheckResult[]> {
  const wanted = new Set(options.only ?? CHECK_GROUPS);
  const results: CheckResult[] = [];
  const record = (result: CheckResult) => {
    results.push(result);
    options.onResult?.(result);
    return result;
  };
  if (wanted.has('camera')) {
    const command = record(cameraCommandCheck(settings));
    record(await cameraFramesCheck(settings, options.log, options.cameraWindowMs, command.status === 'pass'));
  }
  if (wanted.has('gpio')) {
    record(gpioDriverCheck(settings.gpio));
    record(gpioAccessCheck(settings.gpio));
    record(gpioPinsCheck(settings.gpio));
  }
  if (wanted.has('model')) record(await modelCheck(settings));
  if (wanted.has('gallery')) record(await galleryCheck(settings));
  if (wanted.has('broker')) record(await brokerCheck(settings.mqtt));
  if (wanted.has('state')) {
    record(stateDirCheck(settings));
    record(daemonAuditCheck(settings));
  }
  if (wanted.has('fleet')) record(await fleetCheck(settings));
  return results;
}

/** "PASS camera-frames  9.8 fps ..." plus an indented fix line for failures. */
export function formatResult(result: CheckResult): string {
  const mark = { pass: 'PASS', fail: 'FAIL', skip: 'SKIP' }[result.status];
  const line = `${mark}  ${result.name.padEnd(14)} ${result.detail}`;
  return result.fix && result.status === 'fail' ? `${line}\n      fix: ${result.fix}` : line;
}
