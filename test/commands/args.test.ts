import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/config/index.js';
import { commandSettings, splitArgs, strictCommandSettings } from '../../src/commands/args.js';

const own = { image: { type: 'string' }, json: { type: 'boolean' } } as const;

test('own options, the implicit --config/--help, and settings flags with their values are told apart', () => {
  const { values, positionals, settingsArgs } = splitArgs(
    ['--image', 'a.jpg', '--model-dir', 'models/x', '--json', '--config', 'c.json', '--log-level=debug', 'extra', '-h'],
    own,
  );
  assert.equal(values.image, 'a.jpg');
  assert.equal(values.json, true);
  assert.equal(values.config, 'c.json');
  assert.equal(values.help, true);
  assert.deepEqual(settingsArgs, ['--model-dir', 'models/x', '--log-level', 'debug']);
  assert.deepEqual(positionals, ['extra']);
});

test('with positionalsAreSettings every positional goes to the loader, in place', () => {
  const { positionals, settingsArgs } = splitArgs(['stray', '--json', 'after-own', '--log-level', 'debug'], own, { positionalsAreSettings: true });
  assert.deepEqual(positionals, []);
  assert.deepEqual(settingsArgs, ['stray', 'after-own', '--log-level', 'debug']);
});

test('the strict loader refuses unknown flags and stray arguments (exit 78), and reads known ones', () => {
  assert.throws(() => strictCommandSettings({}, ['--log-levle', 'debug']), ConfigError);
  assert.throws(() => strictCommandSettings({}, ['stray']), ConfigError);
  assert.equal(strictCommandSettings({}, ['--log-level', 'debug']).log.level, 'debug');
});

test('one-shot commands (verify, evaluate, doctor, train ...) refuse a mistyped setting instead of running on defaults', () => {
  const { values, settingsArgs } = splitArgs(['--image', 'x.jpg', '--detection-treshold', '0.99'], { image: { type: 'string' } });
  assert.equal(values.image, 'x.jpg');
  assert.throws(() => commandSettings(values, settingsArgs), (error: unknown) =>
    error instanceof ConfigError && error.problems.some((p) => p.key === '--detection-treshold'));
  const ok = splitArgs(['--image', 'x.jpg', '--detection-threshold', '0.99'], { image: { type: 'string' } });
  assert.equal(commandSettings(ok.values, ok.settingsArgs).settings.model.detectionThreshold, 0.99);
});
