import { startDaemon, type Daemon } from '../daemon/daemon.js';
import { Lifecycle } from '../process/lifecycle.js';
import { backstopOptions, relayBackstop } from '../process/relay-off.js';
import { superviseDaemon, type Supervision } from '../process/systemd.js';
import { createLogger } from '../log.js';
import { errorText } from '../core/errors.js';
import { configFromArgv } from './args.js';

/**
 * `facegate run [--config FILE] [--<setting> VALUE ...]`: the door daemon, until a stop signal or key q.
 * Order matters: the lifecycle (every signal handler) first, then the relay forced OFF from the GPIO settings
 * alone, and only then the rest of the configuration, which may be invalid (exit 78, relay already off).
 */
const USAGE = `usage: facegate run [--config FILE] [--<setting> VALUE ...]
Runs the door daemon (button -> camera -> verify -> relay, MQTT, audit) until SIGTERM, SIGINT or key q.
Every setting can be given as a flag or a FACEGATE_* variable: facegate config docs lists them.
Exit code: 0 stopped, 1 failed, 70 crashed, 78 configuration (systemd does not restart it).`;

export async function run(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  const life = new Lifecycle({ log: createLogger({ level: 'info' }) }).install();
  try {
    const outcome = relayBackstop(backstopOptions(argv));
    if (outcome.action === 'off') life.setRelay({ set: () => void relayBackstop(backstopOptions(argv)) });
  } catch (error) {
    // Not fatal here: the full config load below names the bad GPIO key; a sysfs failure shows again at GPIO open.
    console.error(`facegate: relay backstop at start-up failed: ${errorText(error)}`);
  }
  const settings = configFromArgv(argv).getProperties();
  const log = createLogger({ level: settings.log.level, pretty: settings.log.pretty });
  life.setLogger(log);

  // One shutdown list: a stop signal during start-up waits for the daemon, then stops it.
  let daemon: Daemon | null = null;
  const starting = startDaemon(settings, log, {
    signals: { on: (_signal, press) => void life.onPress(press), off: () => undefined },
    onProcessExit: (step) => life.onExit(step),
    onRelayReady: (relay) => life.setRelay(relay),
  });
  life.onShutdown('daemon', async () => {
    const started = await starting.catch(() => null);
    await started?.stop(life.stopReason() ?? 'shutdown');
  });
  daemon = await starting;
  const started = daemon;
  life.onReload(() => started.reload('SIGHUP'));
  void started.quitRequested.then(() => life.requestStop('key q'));
  // READY=1 and the health-gated watchdog (src/process/systemd.ts), not awaited: a stop signal while READY
  // still waits for the first frames must not wait with it. Its STOPPING=1 is the first shutdown step.
  let supervision: Supervision | null = null;
  if (life.stopReason() === null) {
    void superviseDaemon(settings, log, started, process.env, undefined, life).then((s) => (supervision = s));
  }
  life.onShutdown('systemd', () => supervision?.stopping());

  await life.stopRequested;
  const code = await life.shutdown();
  // Handles a library left open (sockets, wasm workers) must not keep a stopped door daemon alive.
  setTimeout(() => process.exit(code), 500).unref();
  return code;
}
