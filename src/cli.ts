#!/usr/bin/env node
// First, before anything else loads: SIGUSR1 must never open Node's inspector (see the module).
import './process/inspector-guard.js';

/**
 * The `facegate` executable. It checks the Node version before loading the rest: on an older Node the first
 * thing to break is sharp's native binding, deep inside the model loader, and the person at the Pi saw
 * "cannot load the model" where the cause was `apt install nodejs` giving Node 18. Only the inspector guard
 * (no dependencies) loads before the check; exit 78 (configuration) keeps systemd from restarting in a loop.
 */
const MINIMUM_NODE_MAJOR = 22;
const found = process.versions.node;
if (Number(found.split('.')[0]) < MINIMUM_NODE_MAJOR) {
  console.error(
    `facegate needs Node >= ${MINIMUM_NODE_MAJOR}; found ${found} (${process.execPath}).\n` +
      'Install Node 22 or 24 LTS (README "Raspberry Pi install"), then run npm rebuild in the facegate folder.',
  );
  process.exit(78);
}
await import('./commands/index.js');
