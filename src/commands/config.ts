import { ConfigError, describeSettings, loadConfig, printable, settingsMarkdown, type Config } from '../config.js';

const USAGE = 'usage: facegate config print [--config FILE] [--<setting> VALUE ...] | facegate config docs';

/** `facegate config print`: the effective settings, secrets masked. `facegate config docs`: the reference table. */
export async function run(argv: string[]): Promise<number> {
  const [action, ...rest] = argv;
  if (action === 'docs') {
    console.log(settingsMarkdown());
    return 0;
  }
  if (action === 'print') {
    console.log(printable(configFromArgv(rest)));
    return 0;
  }
  console.error(USAGE);
  return action === '--help' || action === '-h' ? 0 : 64;
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
