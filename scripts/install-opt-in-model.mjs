#!/usr/bin/env node
/**
 * Installs what the opt-in model folder (models/opt-in/) needs, from the npm registry only:
 *  1. onnxruntime-node (an optional peer dependency: 247 MB for every platform, so not in a default install),
 *     with its install script's extra downloads switched off (ONNXRUNTIME_NODE_INSTALL=skip: the CPU binaries
 *     ship inside the npm package; only CUDA providers would be fetched from elsewhere);
 *  2. the 512-d embedder: model/fr_feature.onnx out of faceplugin-face-recognition-js@0.0.1, fetched with
 *     `npm pack` (its own dependencies, babel/jest/webpack, are never installed) and checked by sha256.
 *
 * Read models/README.md ("The opt-in model") first: the provenance and licence of these weights are unclear.
 *   npm run model:opt-in
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ORT = 'onnxruntime-node@1.23.2';
const PACKAGE = 'faceplugin-face-recognition-js@0.0.1';
const FILE_IN_PACKAGE = 'package/model/fr_feature.onnx';
const SHA256 = '87aacdfe57510db2af90c0251df680e8eec88f122ee94712121d09bcaaaf3581';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(root, 'models', 'opt-in', 'embedder.onnx');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const run = (args, cwd = root) => execFileSync(npm, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' } }).toString();

console.log(`installing ${ORT} (not saved to package.json: it is an optional peer dependency)`);
run(['install', '--no-save', '--no-audit', '--no-fund', ORT]);

const work = mkdtempSync(join(tmpdir(), 'facegate-opt-in-'));
try {
  console.log(`fetching ${PACKAGE} from the npm registry`);
  const tarball = run(['pack', PACKAGE, '--silent', '--pack-destination', work], work).trim().split('\n').pop();
  execFileSync('tar', ['-xzf', join(work, tarball), '-C', work, FILE_IN_PACKAGE]);
  const extracted = join(work, FILE_IN_PACKAGE);
  const sha = createHash('sha256').update(readFileSync(extracted)).digest('hex');
  if (sha !== SHA256) throw new Error(`${FILE_IN_PACKAGE} in ${PACKAGE} has sha256 ${sha}, expected ${SHA256}: not installing it`);
  copyFileSync(extracted, target);
  console.log(`installed ${target} (sha256 ${sha})`);
  console.log('enable it with FACEGATE_MODEL_DIR=models/opt-in (or "model": {"dir": "models/opt-in"} in the config file)');
} finally {
  rmSync(work, { recursive: true, force: true });
}
