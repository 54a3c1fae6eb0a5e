import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, describeSettings, loadConfig, type Config, type ConfigProblem, type Settings } from '../config/index.js';
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

/** The command's own option names behind each settingsArgs list, so a typo can be matched against them too. */
const ownOptionsOf = new WeakMap<string[], string[]>();

/** Splits argv into a command's own options (plus the implicit --config and --help) and the settings args. */
export function splitArgs<T extends Options>(argv: string[], own: T, split: SplitOptions = {}) {
  const ownOptions = { ...own, config: { type: 'string' }, help: { type: 'boolean', short: 'h' } } as Options;
  const isOwn = (name: string) => name in ownOptions;
  const { values, tokens } = parseArgs({ args: argv, options: ownOptions, strict: false, allowPositionals: true, tokens: true });
  const settingsArgs: string[] = [];
  const positionals: string[] = [];
  const problems: ConfigProblem[] = [];
  tokens.forEach((token, i) => {
    if (token.kind === 'option' && isOwn(token.name)) {
      // parseArgs without strict takes `--image --json` as image "--json" and a bare `--image` as true.
      const wantsValue = ownOptions[token.name]?.type === 'string';
      if (wantsValue && (token.value === undefined || (!token.inlineValue && token.value.startsWith('--')))) {
        problems.push({ key: token.rawName, reason: 'needs a value' });
      }
    } else if (token.kind === 'option') {
      // A typo of the command's own option (--jsn) is reported before its other checks (--image is required);
      // any other flag goes to the settings loader, which refuses unknown ones with the same hint.
      const typo = unknownOption(token.rawName, Object.keys(ownOptions));
      if (!knownSettingFlags().has(token.name) && typo.reason.includes('did you mean')) {
        problems.push(unknownOption(token.rawName, [...Object.keys(ownOptions), ...knownSettingFlags()]));
        return;
      }
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
  if (problems.length) throw new UsageError(problems);
  ownOptionsOf.set(settingsArgs, Object.keys(ownOptions));
  return { values: values as Record<string, string | boolean | undefined>, positionals, settingsArgs };
}

/** A mistyped or incomplete command line: exit 78 like any configuration error, worded for the terminal. */
export class UsageError extends ConfigError {
  constructor(problems: ConfigProblem[]) {
    super(problems);
    this.name = 'UsageError';
    this.message = problems.map((p) => `${p.key}: ${p.reason}`).join('\n');
  }
}

function knownSettingFlags(): Set<string> {
  return new Set(describeSettings().flatMap((s) => (s.arg ? [s.arg] : [])));
}

/** "unknown option --jsn (did you mean --json?)": the nearest known flag within two edits, if any. */
export function unknownOption(rawName: string, known: Iterable<string>): ConfigProblem {
  const name = rawName.replace(/^-+/, '');
  let best: { flag: string; distance: number } | undefined;
  for (const flag of known) {
    const distance = editDistance(name, flag);
    if (distance <= Math.min(2, Math.floor(flag.length / 3)) + (flag.startsWith(name) ? 1 : 0) && (!best || distance < best.distance)) best = { flag, distance };
  }
  const hint = best ? `did you mean --${best.flag}?` : 'facegate <command> --help lists its options, facegate config docs every setting';
  return { key: rawName, reason: `unknown option ${rawName} (${hint})` };
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = row;
  }
  return previous[b.length]!;
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
  const argv = file === undefined ? settingsArgs : ['--config', file, ...settingsArgs];
  return configFromArgv(argv, process.env, ownOptionsOf.get(settingsArgs)).getProperties();
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
export function configFromArgv(argv: string[], env: NodeJS.ProcessEnv = process.env, ownOptions: string[] = []): Config {
  const known = knownSettingFlags();
  const args: string[] = [];
  const problems: ConfigProblem[] = [];
  let file: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    const match = /^--([\w-]+)(?:=(.*))?$/.exec(token);
    if (!match) {
      problems.push({ key: token, reason: 'unexpected argument' });
      continue;
    }
    const [, name, inline] = match as unknown as [string, string, string | undefined];
    if (name !== 'config' && !known.has(name)) {
      problems.push(unknownOption(`--${name}`, [...ownOptions, ...known, 'config']));
      if (inline === undefined && argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('--')) i++;
      continue;
    }
    const next = argv[i + 1];
    const value = inline ?? (next === undefined || next.startsWith('--') ? undefined : argv[++i]);
    if (value === undefined) problems.push({ key: `--${name}`, reason: 'needs a value' });
    else if (name === 'config') file = value;
    else args.push(`--${name}`, value);
  }
  if (problems.length) throw new UsageError(problems);
  return loadConfig({ file, args, env });
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
