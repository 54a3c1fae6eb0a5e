import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { loadConfig } from '../../src/config/index.js';
import { startDaemon } from '../../src/daemon/daemon.js';
import { simulatedGpio } from '../../src/gpio/factory.js';
import { repoRoot } from '../helpers/datasets.js';
import { memoryLogger } from '../audit/helpers.js';

// The real verifier and the small committed test model: here the model files themselves are what breaks.

function workspace() {
  const root = mkdtempSync(join(tmpdir(), 'facegate-startup-'));
  const modelDir = join(root, 'model');
  cpSync(join(repoRoot, 'test/fixtures/keras-seed'), modelDir, { recursive: true });
  const settings = (overrides: Record<string, unknown> = {}) => loadConfig({
    env: {},
    overrides: {
      'paths.data': join(root, 'data'), 'paths.state': join(root, 'state'), 'model.dir': modelDir, 'model.backend': 'cpu',
      'vision.detector': 'fixed', 'camera.driver': 'files', 'mqtt.enabled': false, 'keyboard.enabled': false, ...overrides,
    },
  }).getProperties();
  return { root, modelDir, settings, remove: () => rmSync(root, { recursive: true, force: true }) };
}

/** A 640x480 picture of structured noise: the fixed crop cuts a "face" out of it, the model embeds it. */
async function picture(seed: number): Promise<Buffer> {
  const pixels = Buffer.alloc(640 * 480 * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 7919 + seed * 104729) % 251;
  return sharp(pixels, { raw: { width: 640, height: 480, channels: 3 } }).png().toBuffer();
}

for (const [what, damage] of [
  ['a model.json cut short', (dir: string) => { const text = readFileSync(join(dir, 'model.json'), 'utf8'); writeFileSync(join(dir, 'model.json'), text.slice(0, text.length / 2)); }],
  ['a truncated weights file', (dir: string) => { const bin = readFileSync(join(dir, 'group1-shard1of1.bin')); writeFileSync(join(dir, 'group1-shard1of1.bin'), bin.subarray(0, 1000)); }],
] as const) {
  test(`${what} stops startup with an error naming the model, the relay off and nothing left running`, async () => {
    const ws = workspace();
    const { log } = memoryLogger();
    const gpio = simulatedGpio(log);
    try {
      damage(ws.modelDir);
      await assert.rejects(startDaemon(ws.settings(), log, { createGpio: async () => gpio }), (error: Error) => {
        assert.ok(error.message.includes(ws.modelDir), `the message names the model folder: ${error.message}`);
        return true;
      });
      assert.equal(gpio.relay.isOn(), false);
    } finally {
      ws.remove();
    }
  });
}

test('a corrupt gallery image is skipped with a warning; the good ones still load', async () => {
  const ws = workspace();
  const { log, lines } = memoryLogger();
  const person = join(ws.root, 'data', 'gallery', 'alice');
  mkdirSync(person, { recursive: true });
  writeFileSync(join(person, 'good.png'), await picture(1));
  writeFileSync(join(person, 'broken.jpg'), Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(300, 0x5a)]));
  let daemon: Awaited<ReturnType<typeof startDaemon>> | null = null;
  try {
    daemon = await startDaemon(ws.settings(), log, { createGpio: async () => simulatedGpio(log) });
    const skipped = lines.filter((l) => l.msg === 'gallery image skipped');
    assert.equal(skipped.length, 1);
    assert.match(String(skipped[0]!.file), /broken\.jpg$/);
    assert.equal(skipped[0]!.level, 40);
    assert.equal(daemon.door.status().gallery.images, 1);
    assert.equal(daemon.healthy(), true);
  } finally {
    await daemon?.stop('test over');
    ws.remove();
  }
});
