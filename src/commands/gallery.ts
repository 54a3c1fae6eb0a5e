import { createInterface } from 'node:readline/promises';
import { galleryDir } from '../config/index.js';
import { listPeople, removePerson } from '../gallery/gallery.js';
import { commandSettings, errorMessage, splitArgs } from './args.js';

const USAGE = `usage: facegate gallery list [--json] | facegate gallery remove NAME [--yes]   [--gallery DIR] [--config FILE]
  list     enrolled people and how many verification images each has
  remove   deletes a person's folder (their cached embeddings are simply never read again); at a terminal it
           asks first, --yes does not ask
  Exit code: 0 done, 1 error (e.g. unknown person) or not confirmed, 64 usage.`;

/** A person at a terminal confirms a removal; a script (no terminal on stdin) or --yes does not ask. */
async function confirmed(question: string, yes: boolean): Promise<boolean> {
  if (yes || !process.stdin.isTTY) return true;
  const prompt = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await prompt.question(`${question} [y/N] `)).trim());
  } finally {
    prompt.close();
  }
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals, settingsArgs } = splitArgs(argv, { json: { type: 'boolean' }, yes: { type: 'boolean', short: 'y' } });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const [action, ...rest] = positionals;
  const { settings } = commandSettings(values, settingsArgs);
  const dir = galleryDir(settings);
  if (action === 'list' && rest.length === 0) {
    const people = listPeople(dir).map((p) => ({ name: p.name, images: p.images.length }));
    if (values.json) console.log(JSON.stringify({ gallery: dir, people }));
    else if (people.length === 0) console.log(`nobody is enrolled (gallery ${dir}); add someone with facegate enroll NAME --images DIR`);
    else for (const p of people) console.log(`${p.name}\t${p.images} image(s)`);
    return 0;
  }
  if (action === 'remove' && rest.length === 1) {
    const person = listPeople(dir).find((p) => p.name === rest[0]);
    if (person && !(await confirmed(`remove ${person.name} (${person.images.length} image(s)) from ${dir}?`, values.yes === true))) {
      console.error(`facegate gallery: ${person.name} kept`);
      return 1;
    }
    try {
      removePerson(dir, rest[0]!);
    } catch (error) {
      console.error(`facegate gallery: ${errorMessage(error)}`);
      return 1;
    }
    console.log(`removed ${rest[0]} from ${dir}`);
    return 0;
  }
  console.error(`facegate gallery: ${action ? `cannot "${[action, ...rest].join(' ')}"` : 'say list or remove NAME'}\n${USAGE}`);
  return 64;
}
