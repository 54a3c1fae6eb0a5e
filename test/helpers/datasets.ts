import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, wherever the clone lives. */
export const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** ../shared/datasets beside the clone, or FACEGATE_DATASETS. Never copied into the repo. */
export const datasetsDir = process.env.FACEGATE_DATASETS ?? resolve(repoRoot, '../shared/datasets');
export const lfwDir = resolve(datasetsDir, 'lfw-dev');
export const orlDir = resolve(datasetsDir, 'orl');

/** For `{ skip }` in node:test: false when present, else the reason it is skipped. */
export function needLfw(): string | false {
  return existsSync(lfwDir) ? false : `LFW-dev dataset not found at ${lfwDir} (set FACEGATE_DATASETS)`;
}
export function needOrl(): string | false {
  return existsSync(orlDir) ? false : `ORL dataset not found at ${orlDir} (set FACEGATE_DATASETS)`;
}
