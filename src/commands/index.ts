import { readFileSync } from 'node:fs';
import { errorText, exitCodeOf } from '../core/errors.js';

/** The command dispatcher behind src/cli.ts (which guards SIGUSR1 and checks the Node version first). */

/** Each command lives in src/commands/<name>.ts and exports `run(argv): Promise<number>` (the exit code). */
const commands: Record<string, string> = {
  run: 'Run the door daemon (button -> camera -> verify -> relay, MQTT, audit).',
  verify: 'Verify one image against the gallery: facegate verify --image F [--json].',
  enroll: 'Enroll a person from a folder of photos: facegate enroll NAME --images DIR.',
  gallery: 'List or remove enrolled people: facegate gallery list|remove NAME.',
  collect: 'Collect anchor/positive images from the camera with keys a/p (the seed workflow).',
  train: 'Train a Siamese model (seed tower end to end, or a head on a pretrained tower).',
  evaluate: 'Precision, recall, FAR/FRR, EER, AUC and door test on a dataset of identity folders.',
  'evaluate-pad': 'Liveness figures (ISO/IEC 30107-3 APCER/BPCER): facegate evaluate-pad --bona-fide DIR --attack DIR.',
  doctor: 'Check camera, GPIO, model, gallery and broker; print fixes.',
  audit: 'List recorded attempts: facegate audit [--since DATE] [--json].',
  config: 'facegate config print | docs: the effective configuration (secrets masked) or its reference.',
  status: 'The running daemon\'s state (door mode, relay, lockout, audit, what is degraded): facegate status [--json].',
  reload: 'Make the running daemon reload its gallery and lockout state (the same as SIGHUP).',
  lockout: 'facegate lockout clear: lift a lockout after too many denied attempts (persisted across restarts).',
  'relay-off': 'Drive the relay OFF through sysfs and exit (systemd runs it before start and after every stop).',
  fleet: 'Several doors, one site: fleet init | enroll | revoke | list | status | collect | audit.',
};

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  return [
    'usage: facegate <command> [options]',
    '',
    ...Object.entries(commands).map(([name, doc]) => `  ${name.padEnd(width)}  ${doc}`),
    '',
    'Common options: --config FILE, --help after a command, and any setting as a flag or FACEGATE_* variable',
    '(facegate config docs). facegate --version prints the version.',
  ].join('\n');
}

/** package.json sits one folder above src/ and dist/ alike. */
function packageVersion(): string {
  const file = new URL('../../package.json', import.meta.url);
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 64;
  }
  if (name === '--version' || name === '-V' || name === 'version') {
    console.log(`facegate ${packageVersion()} (Node ${process.version}, ${process.platform}-${process.arch})`);
    return 0;
  }
  if (!(name in commands)) {
    console.error(`facegate: unknown command "${name}"\n\n${usage()}`);
    return 64;
  }
  const module = (await import(`./${name}.js`)) as { run(argv: string[]): Promise<number> };
  return module.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // One table maps error codes to exit codes (src/core/errors.ts): 78 for configuration, 1 for a plain failure.
    console.error(`facegate: ${errorText(error)}`);
    process.exitCode = exitCodeOf(error);
  },
);
