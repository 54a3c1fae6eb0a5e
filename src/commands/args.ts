import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, describeSettings, loadConfig, type Config, type Settings } from '../config/index.js';
import { createLogger, type Logger } from '../log.js';

/**
 * The command line shared by every command: a command's own options, and the rest, which are settings flags
 * handed to the config loader (`facegate config docs` lists them). One copy, so every command reads
 * `--config FILE`, `--help`/`-h` and `--<setting> VALUE` the same way.
 */

type Options = NonNullable<ParseArgsConfig['options']>;

export interface SplitOptions {
  /**
   * true: every positional goes to the settings args, in place, for a loader that refuses them (exit 78 from
   * configFromArgv) or ignores them. false (default): a positional is the command's own (e.g. enroll NAME),
   * except right after a settings flag, where it is that flag's value (--model-dir DIR).
   */
  positionalsAreSettings?: boolean;
}

/** Splits argv into a command's own options (plus the implicit --config and --help) and the settings args. */
export function splitArgs<T extends Options>(argv: string[], own: T, split: SplitOptions = {}) {
  const isOwn = (name: string) => name in own || name === 'config' || name === 'help';
  const { values, tokens } = parseArgs({ args: argv, options: { ...own, config: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: false, allowPositionals: true, tokens: true });
  const settingsArgs: string[] = [];
  const positionals: string[] = [];
  tokens.forEach((token, i) => {
    if (token.kind === 'option' && !isOwn(token.name)) {
      settingsArgs.push(token.rawName);
      if (token.value !== undefined) settingsArgs.push(token.value);
    } else if (token.kind === 'positional') {
      // parseArgs cannot know a settings flag takes a value, so `--model-dir DIR` arrives as a flag and a positional.
      const previous = tokens[i - 1];
      const valueOfSettingsFlag = previous?.kind === 'option' && !isOwn(previous.name) && previous.value === undefined;
      if (split.positionalsAreSettings || valueOfSettingsFlag) settingsArgs.push(token.value);
      else positionals.push(token.value);
    }
  });
  return { values: values as Record<string, string | boolean | undefined>, positionals, settingsArgs };
}

function configFile(values: Record<string, unknown>): string | undefined {
  return typeof values.config === 'string' ? values.config : undefined;
}

/**
 * The settings for `--config FILE` and the settings args. A flag the schema does not know, or a stray
 * argument, stops with exit 78 (a ConfigError): convict alone would silently drop a mistyped flag, and
 * `--detection-treshold 0.99` quietly running with the default threshold is not acceptable at a door.
 */
export function loadCommandSettings(values: Record<string, unknown>, settingsArgs: string[]): Settings {
  return strictCommandSettings(values, settingsArgs);
}

/** Kept as the explicit name for commands that route stray arguments to the settings (audit). */
export function strictCommandSettings(values: Record<string, unknown>, settingsArgs: string[]): Settings {
  const file = configFile(values);
  return configFromArgv(file === undefined ? settingsArgs : ['--config', file, ...settingsArgs]).getProperties();
}

/**
 * Settings for a one-shot command. Logs go to stderr so stdout stays clean for --json, and the daemon's
 * default "info" becomes "warn": a person at a terminal wants the answer, not the start-up chatter
 * (--log-level debug brings it back). The daemon (facegate run) makes its own logger.
 */
export function commandSettings(values: Record<string, unknown>, settingsArgs: string[]): { settings: Settings; log: Logger } {
  const settings = loadCommandSettings(values, settingsArgs);
  const level = settings.log.level === 'info' ? 'warn' : settings.log.level;
  const log = createLogger({ level, destination: process.stderr });
  return { settings, log };
}

/**
 * Settings for a command line: `--config FILE` picks the file, every other `--flag VALUE` must be a
 * setting's flag (see `facegate config docs`). A typo stops with exit 78 instead of being ignored.
 */
export function configFromArgv(argv: string[], env: NodeJS.ProcessEnv = process.env): Config {
  const known = new Set(describeSettings().flatMap((s) => (s.arg ? [s.arg] : [])));
  const args: string[] = [];
  const problems = [];
  let file: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    const match = /^--([\w-]+)(?:=(.*))?$/.exec(token);
    if (!match) {
      problems.push({ key: token, reason: 'unexpected argument' });
      continue;
    }
    const [, name, inline] = match as unknown as [string, string, string | undefined];
    const value = inline ?? argv[++i];
    if (value === undefined) {
      problems.push({ key: `--${name}`, reason: 'needs a value' });
    } else if (name === 'config') {
      file = value;
    } else if (known.has(name)) {
      args.push(`--${name}`, value);
    } else {
      problems.push({ key: `--${name}`, reason: 'unknown option (facegate config docs lists every setting)' });
    }
  }
  if (problems.length) throw new ConfigError(problems);
  return loadConfig({ file, args, env });
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
