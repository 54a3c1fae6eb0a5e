import convict from 'convict';
import { accessSync, constants, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FacegateError } from '../core/errors.js';
import { schema, type Config, type Settings } from './schema.js';

export interface ConfigProblem {
  key: string;
  reason: string;
}

/** A bad setting: startup stops, naming each key and why. */
export class ConfigError extends FacegateError {
  constructor(readonly problems: ConfigProblem[], options: { cause?: unknown } = {}) {
    super('config', `invalid configuration:\n${problems.map((p) => `  ${p.key}: ${p.reason}`).join('\n')}`, options);
    this.name = 'ConfigError';
  }
}

/** convict reports several problems in one message; split it into key + reason pairs. */
function parseConvictMessage(message: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const line of message.split('\n')) {
    const text = line.trim();
    if (!text) continue;
    const known = /^([\w.]+): (.*)$/.exec(text);
    const unknown = /^configuration param '([^']+)' not declared in the schema$/.exec(text);
    if (unknown) problems.push({ key: unknown[1]!, reason: 'unknown setting (not in the schema; check the spelling)' });
    // Our own formats name the value they got; convict's ": value was" suffix would only repeat it.
    else if (known) problems.push({ key: known[1]!, reason: known[2]!.includes('(got ') ? known[2]!.replace(/: value was .*$/, '') : known[2]! });
    else problems.push({ key: '(config)', reason: text });
  }
  return problems;
}

export interface LoadOptions {
  /** Config file; falls back to FACEGATE_CONFIG. */
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Command-line flags in convict form, e.g. ["--log-level", "debug"]. */
  args?: string[];
  /** Extra overrides applied last (programmatic, e.g. tests). */
  overrides?: Record<string, unknown>;
}

/**
 * Found and readable, or a message that says which: /etc/facegate is 0750 root:facegate (the file may hold the
 * MQTT password), so an operator's `facegate doctor` met "file not found" for a file that is there.
 */
function assertReadable(file: string): void {
  try {
    accessSync(file, constants.R_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') {
      throw new ConfigError([{ key: 'config', reason: `permission denied reading ${file}: run as the facegate user ` +
        '(sudo -u facegate facegate ...) or join its group (sudo usermod -aG facegate $USER, then log in again)' }]);
    }
    throw new ConfigError([{ key: 'config', reason: `file not found: ${file}` }]);
  }
}

/**
 * The one place settings are read. Precedence: defaults < file < environment < flags < overrides.
 * Throws ConfigError naming every bad key.
 */
export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  let config: Config;
  try {
    config = convict(schema, { env, args: options.args ?? [] }) as Config;
    const file = options.file ?? env.FACEGATE_CONFIG;
    if (file) {
      assertReadable(file);
      config.loadFile(file);
    }
    for (const [key, value] of Object.entries(options.overrides ?? {})) {
      (config as unknown as { set(k: string, v: unknown): void }).set(key, value);
    }
    config.validate({ allowed: 'strict' });
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof SyntaxError || /JSON|Unexpected token/.test(message)) {
      throw new ConfigError([{ key: 'config', reason: `cannot parse the config file: ${message}` }], { cause: error });
    }
    throw new ConfigError(parseConvictMessage(message), { cause: error });
  }
  // paths.state follows paths.data unless set, so a test or a second instance that moves its data moves its state too.
  if (config.get('paths.state') === '') config.set('paths.state', join(config.get('paths.data'), 'state'));
  const problems = crossCheck(config.getProperties());
  if (problems.length) throw new ConfigError(problems);
  return config;
}

/** The embedded broker binds the URL's host: fine on loopback, elsewhere only with credentials. */
function embeddedBindIsSafe(mqtt: Settings['mqtt']): boolean {
  if (mqtt.username && mqtt.password) return true;
  try {
    const host = new URL(mqtt.url).hostname.replace(/^\[|\]$/g, '');
    return host === 'localhost' || host === '::1' || host.startsWith('127.');
  } catch {
    return true; // the url's own format check reports it
  }
}

/** Rules that span several keys, which convict's per-key formats cannot express. */
function crossCheck(s: Settings): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (s.fleet.enabled && !s.mqtt.enabled) {
    problems.push({ key: 'fleet.enabled', reason: 'needs mqtt.enabled: the site gallery comes over the broker' });
  }
  if (s.door.unlockMs > s.door.maxUnlockMs) {
    problems.push({ key: 'door.unlockMs', reason: `must not exceed door.maxUnlockMs (${s.door.maxUnlockMs})` });
  }
  if (s.mqtt.unlock.enabled && !s.mqtt.unlock.secret) {
    problems.push({ key: 'mqtt.unlock.secret', reason: 'must be set when mqtt.unlock.enabled is true' });
  }
  if (s.mqtt.unlock.secret !== null && s.mqtt.unlock.secret.length < 16) {
    problems.push({ key: 'mqtt.unlock.secret', reason: 'must be at least 16 characters' });
  }
  if (s.audit.required && !s.audit.enabled) {
    problems.push({ key: 'audit.required', reason: 'needs audit.enabled: true (the door cannot require a record it does not keep)' });
  }
  if (s.mqtt.requireSignatures && !s.mqtt.unlock.secret) {
    problems.push({ key: 'mqtt.unlock.secret', reason: 'must be set when mqtt.requireSignatures is true (it signs every command)' });
  }
  if (s.mqtt.embedded === 'always' && !embeddedBindIsSafe(s.mqtt)) {
    problems.push({ key: 'mqtt.embedded', reason: `"always" would open a broker without a password to every network (${s.mqtt.url}); ` +
      'set mqtt.username and mqtt.password, or use a loopback mqtt.url such as mqtt://127.0.0.1:1883' });
  }
  if (s.camera.driver === 'http' && !s.camera.url) {
    problems.push({ key: 'camera.url', reason: 'must be set when camera.driver is "http"' });
  }
  if (s.camera.restartMinMs > s.camera.restartMaxMs) {
    problems.push({ key: 'camera.restartMinMs', reason: 'must not exceed camera.restartMaxMs' });
  }
  if (s.mqtt.reconnectMinMs > s.mqtt.reconnectMaxMs) {
    problems.push({ key: 'mqtt.reconnectMinMs', reason: 'must not exceed mqtt.reconnectMaxMs' });
  }
  if (s.gpio.driver === 'onoff') {
    const pins = [
      ['gpio.button.pin', s.gpio.button.pin],
      ['gpio.relay.pin', s.gpio.relay.pin],
      ['gpio.leds.green', s.gpio.leds.green],
      ['gpio.leds.red', s.gpio.leds.red],
      ['gpio.leds.busy', s.gpio.leds.busy],
    ] as const;
    const seen = new Map<number, string>();
    for (const [key, pin] of pins) {
      if (pin === null) continue;
      const other = seen.get(pin);
      if (other) problems.push({ key, reason: `BCM ${pin} is already used by ${other}` });
      seen.set(pin, key);
    }
    if (s.gpio.relay.pin === null) problems.push({ key: 'gpio.relay.pin', reason: 'must be set: a door needs its relay' });
  }
  return problems;
}

/** The effective config as JSON with every sensitive value masked. */
export function printable(config: Config): string {
  return config.toString();
}

/** The GPIO part of the settings: all the relay backstop needs. */
export type GpioSettings = Settings['gpio'];

/**
 * Only the GPIO part of the configuration, for the relay backstop (`facegate relay-off`, and the daemon's first
 * act at start-up): a typo in an unrelated key must never stop the relay from being switched off. Reads the
 * file's "gpio" object, the gpio env variables and the gpio flags, with the same formats and precedence as
 * loadConfig; every other key in the file, env or argv is ignored here, whatever it says.
 */
export function loadGpioSettings(options: LoadOptions = {}): GpioSettings {
  const env = options.env ?? process.env;
  const gpioSchema = { gpio: schema.gpio };
  try {
    const config = convict(gpioSchema, { env, args: options.args ?? [] });
    const file = options.file ?? env.FACEGATE_CONFIG;
    if (file) {
      assertReadable(file);
      const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
      const gpio = parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>).gpio : undefined;
      // convict's load() applies env and flags again afterwards, so they win over the file as in loadConfig.
      if (gpio !== undefined) config.load({ gpio });
    }
    config.validate({ allowed: 'warn' });
    return config.getProperties().gpio;
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof SyntaxError) throw new ConfigError([{ key: 'config', reason: `cannot parse the config file: ${message}` }], { cause: error });
    throw new ConfigError(parseConvictMessage(message), { cause: error });
  }
}
