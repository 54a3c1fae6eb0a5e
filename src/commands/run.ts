import { startDaemon } from '../daemon/daemon.js';
import { superviseDaemon } from '../process/systemd.js';
import { createLogger } from '../log.js';
import { configFromArgv } from './args.js';

/** Shutdown must finish within this; then the relay is forced off and the process exits anyway. */
const HARD_EXIT_MS = 4500;

/** `facegate run [--config FILE] [--<setting> VALUE ...]`: the door daemon, until SIGTERM, SIGINT or key q. */
export async function run(argv: string[]): Promise<number> {
  // Until the daemon listens for it, SIGUSR1 would open Node's inspector: a debugger port on a door controller.
  const ignoreEarlyPress = () => undefined;
  process.on('SIGUSR1', ignoreEarlyPress);
  const settings = configFromArgv(argv).getProperties();
  const log = createLogger({ level: settings.log.level, pretty: settings.log.pretty as 'auto' | 'always' | 'never' });
  const daemon = await startDaemon(settings, log);
  process.off('SIGUSR1', ignoreEarlyPress);
  // Crash/signal fail-safes, READY=1 and the health-gated watchdog (src/process/systemd.ts).
  const supervision = await superviseDaemon(settings, log, daemon);

  const reason = await new Promise<string>((resolve) => {
    process.on('SIGTERM', () => resolve('SIGTERM'));
    process.on('SIGINT', () => resolve('SIGINT'));
    void daemon.quitRequested.then(() => resolve('key q'));
  });
  // The backstop: whatever hangs below, the relay goes off and the process ends in time.
  const backstop = setTimeout(() => {
    daemon.relay.set(false);
    log.error({ afterMs: HARD_EXIT_MS }, 'shutdown is taking too long: relay forced off, exiting now');
    process.exit(0);
  }, HARD_EXIT_MS);
  backstop.unref();
  void supervision.stopping();
  try {
    await daemon.stop(reason);
  } catch (error) {
    daemon.relay.set(false);
    log.error({ err: error }, 'shutdown failed; relay forced off');
    return 1;
  }
  // Handles a library left open (sockets, wasm workers) must not keep a stopped door daemon alive.
  setTimeout(() => process.exit(process.exitCode ?? 0), 500).unref();
  return 0;
}
