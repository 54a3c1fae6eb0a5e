import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './datasets.js';

export interface CliResult { code: number; stdout: string; stderr: string }

/** Runs the real CLI from source in a child process, with its data and state in `dir`. */
export function cli(dir: string, args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli.ts'), ...args], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '', HOME: dir, FACEGATE_DATA_DIR: join(dir, 'data'), FACEGATE_STATE_DIR: join(dir, 'state'), FACEGATE_LOG_LEVEL: 'warn', FACEGATE_MODEL_DIR: join(repoRoot, 'models/default') },
      maxBuffer: 16 * 1024 * 1024,
    }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** A temp folder removed when the test ends. */
export function tempDir(t: { after(fn: () => void): void }, prefix = 'facegate-cli-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** For `{ skip }`: the shipped default model is needed by the CLI tests. */
export const modelReady = existsSync(join(repoRoot, 'models/default/model.json')) ? false : 'models/default not built yet';
