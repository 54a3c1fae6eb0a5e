import { printable, settingsMarkdown } from '../config/index.js';
import { configFromArgv } from './args.js';

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
