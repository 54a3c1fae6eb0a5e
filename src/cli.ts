#!/usr/bin/env node
import { ConfigError } from './config/index.js';

/** Each command lives in src/commands/<name>.ts and exports `run(argv): Promise<number>` (the exit code). */
const commands: Record<string, string> = {
  run: 'Run the door daemon (button -> camera -> verify -> relay, MQTT, audit).',
  verify: 'Verify one image against the gallery: facegate verify --image F [--json].',
  enroll: 'Enroll a person from a folder of photos: facegate enroll NAME --images DIR.',
  gallery: 'List or remove enrolled people: facegate gallery list|remove NAME.',
  collect: 'Collect anchor/positive images from the camera with keys a/p (the seed workflow).',
  train: 'Train a Siamese model (seed tower end to end, or a head on a pretrained tower).',
  evaluate: 'Precision, recall, FAR/FRR, EER, AUC and door test on a dataset of identity folders.',
  doctor: 'Check camera, GPIO, model, gallery and broker; print fixes.',
  audit: 'List recorded attempts: facegate audit [--since DATE] [--json].',
  config: 'facegate config print | docs: the effective configuration (secrets masked) or its reference.',
};

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  return [
    'usage: facegate <command> [options]',
    '',
    ...Object.entries(commands).map(([name, doc]) => `  ${name.padEnd(width)}  ${doc}`),
    '',
    'Common options: --config FILE, and any setting as a flag or FACEGATE_* variable (facegate config docs).',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 64;
  }
  if (!(name in commands)) {
    console.error(`facegate: unknown command "${name}"\n\n${usage()}`);
    return 64;
  }
  const module = (await import(`./commands/${name}.js`)) as { run(argv: string[]): Promise<number> };
  return module.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof ConfigError) {
      console.error(`facegate: ${error.message}`);
      process.exitCode = error.exitCode;
      return;
    }
    console.error(`facegate: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
