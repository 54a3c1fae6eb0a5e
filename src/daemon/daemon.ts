import { randomUUID } from 'node:crypto';
import { createCamera } from '../camera/factory.js';
import type { Camera } from '../camera/camera.js';
import { systemClock, type Clock } from '../core/clock.js';
import { cameraFolder, galleryDir, type Settings } from '../config/index.js';
import type { AttemptEvent, Trigger } from '../core/events.js';
import type { CommandPort } from '../core/commands.js';
import { createGpio, type GpioSet } from '../gpio/factory.js';
import type { Output } from '../gpio/gpio.js';
import type { Logger } from '../log.js';
import type { Verifier } from '../core/types.js';
import type { GalleryStore } from '../gallery/store.js';
import type { FleetDoor } from '../fleet/door.js';
import { openAuditLog } from '../audit/log.js';
import { join } from 'node:path';
import { FileLockoutStore } from './lockout-store.js';
import { prepareStateDir } from './state-dir.js';
import { StatusFileSink } from './status-file.js';
import { daemonCommandPort } from './commands.js';
import { startMqttTransport, type ClosableSink, type MqttExtras } from './mqtt.js';
import { Door } from './door.js';
import { guardDoorRelay } from '../process/relay-guard.js';
import { FanOutSink, logSink } from './sinks.js';
import { onSignalPress, startKeyboard, type KeyInput, type SignalSource, type StopTrigger } from './triggers.js';

export type { ClosableSink } from './mqtt.js';

/** What the daemon adds to the verifier it asks for: the fleet's site gallery in front of the configured store. */
export interface VerifierExtras {
  wrapStore?: (store: GalleryStore) => GalleryStore;
}

/** Substitutes for tests; the daemon builds the real ones from settings. */
export interface DaemonDeps {
  createVerifier?: (settings: Settings, log: Logger, extra: VerifierExtras) => Promise<Verifier>;
  /** The fleet feature (site gallery over the broker); only asked for when fleet.enabled. */
  openFleet?: (settings: Settings, log: Logger) => Promise<FleetDoor>;
  /** The MQTT transport: events out, commands in through the port; extra features ride on its connection. */
  startMqtt?: (settings: Settings, log: Logger, port: CommandPort, extras?: MqttExtras) => Promise<ClosableSink>;
  createCamera?: (settings: Settings, log: Logger) => Promise<Camera>;
  createGpio?: (settings: Settings['gpio'], log: Logger) => Promise<GpioSet>;
  keyboardInput?: KeyInput;
  /** Where SIGUSR1 presses come from: the lifecycle in `facegate run`; none when absent (no process listener here). */
  signals?: SignalSource;
  /** Registers a synchronous step for process exit (the lifecycle's); used to restore the terminal. */
  onProcessExit?: (step: () => void) => void;
  /** Called as soon as the guarded relay exists, before camera and model: the lifecycle switches this one off. */
  onRelayReady?: (relay: Output) => void;
  clock?: Clock;
}

export interface Daemon {
  door: Door;
  /** The door relay, so process-level fail-safes can de-energise it on a crash. */
  relay: Output;
  sinks: FanOutSink;
  /** Camera and model working, daemon not stopping (for the systemd watchdog). */
  healthy(): boolean;
  /** Aborts the attempt, relay off, MQTT offline, releases everything. Safe to call more than once. */
  stop(reason: string): Promise<void>;
  /** Resolves when someone asked to quit from the keyboard (key q). */
  quitRequested: Promise<void>;
  /** Reloads the gallery (SIGHUP, `facegate reload`, cmd/reload). */
  reload(origin: string): Promise<ReloadResult>;
}

export type ReloadResult = { ok: true } | { refused: string };

/** How often status.json is rewritten without a door event (camera health, frame age). */
const STATUS_REFRESH_MS = 15_000;

export { refusalText } from './commands.js';

/** The composition root: builds every adapter from settings, wires them to the door, starts them. */
export async function startDaemon(configured: Settings, log: Logger, deps: DaemonDeps = {}): Promise<Daemon> {
  const cleanup: Array<() => Promise<void> | void> = [];
  const undo = async () => {
    for (const step of cleanup.reverse()) await Promise.resolve().then(step).catch((err: unknown) => log.error({ err }, 'cleanup failed'));
  };
  try {
    // GPIO first, so the relay is known to be off before anything slow happens.
    const gpio = await (deps.createGpio ?? createGpio)(configured.gpio, log);
    gpio.relay.set(false);
    cleanup.push(() => gpio.release());
    // Every pulse capped at door.maxUnlockMs, enforced off-thread too when the event loop is stuck (failsafe.ts).
    const guard = guardDoorRelay(gpio.relay, configured, log);
    gpio.relay = guard.relay;
    cleanup.push(() => guard.close());
    deps.onRelayReady?.(guard.relay);

    // A read-only state dir runs degraded (state in a temp folder, said loudly) instead of refusing to start.
    const state = prepareStateDir(configured, log);
    const settings = state.settings;
    const sinks = new FanOutSink(log.child({ component: 'sinks' }));
    sinks.add('log', logSink(log.child({ component: 'events' })));
    const audit = await openAuditLog(settings, log);
    if (audit) {
      // audit.required: the door records each attempt itself before acting on it (Door.recordFirst).
      if (!settings.audit.required) sinks.add('audit', audit);
      cleanup.push(() => audit.close());
    }
    const statusFile = state.volatile ? null : new StatusFileSink(settings.paths.state, (err) => log.warn({ err }, 'status file not written'));
    if (statusFile) sinks.add('status-file', statusFile);
    const health = () => ({
      audit: audit ? (audit.health().state === 'ok' ? 'ok' as const : 'failing' as const) : 'off' as const,
      degraded: [...state.degraded, ...(audit?.health().state === 'failing' ? ['audit failing: attempts are not being recorded'] : [])],
    });
    const recordFirst = !settings.audit.required || !audit ? undefined
      : state.volatile ? async () => false : (event: AttemptEvent, snapshot?: Buffer) => audit.record(event, snapshot);

    const camera = await (deps.createCamera ?? createCamera)(settings, log);
    await camera.start();
    cleanup.push(() => camera.stop());

    // The fleet opens before the verifier: the site gallery it kept on disk is part of the verifier's gallery.
    const fleet = settings.fleet.enabled ? await (deps.openFleet ?? loadFleet)(settings, log) : null;
    const verifier = await (deps.createVerifier ?? loadVerifier)(settings, log.child({ component: 'verifier' }), fleet ? { wrapStore: (local) => fleet.galleryStore(local) } : {});
    cleanup.push(() => verifier.close());

    const door = new Door({
      settings, camera, verifier, relay: gpio.relay, leds: gpio.leds, sink: sinks,
      clock: deps.clock ?? systemClock, log: log.child({ component: 'door' }), newId: randomUUID,
      wantSnapshot: settings.audit.snapshots || settings.mqtt.snapshots,
      lockoutStore: new FileLockoutStore(join(settings.paths.state, 'lockout.json')),
      health, ...(recordFirst ? { recordFirst } : {}),
    });
    // The status file is refreshed now and then: camera health and frame age change without a door event.
    const refresh = setInterval(() => void statusFile?.status(door.status()), STATUS_REFRESH_MS);
    refresh.unref();
    cleanup.push(() => clearInterval(refresh));
    cleanup.push(() => door.stop());

    const reloadGallery = reloader(verifier, log);
    const reload = async (origin: string) => {
      door.reloadLockout();
      const result = await reloadGallery(origin);
      statusFile?.reloaded(door.status());
      // The state carries the gallery counts: every sink (MQTT's retained state too) gets them now.
      void sinks.status(door.status());
      return result;
    };
    const port = daemonCommandPort(door, reload, log.child({ component: 'commands' }));
    let bridge: ClosableSink | null = null;
    if (settings.mqtt.enabled) {
      // The fleet rides on the bridge's connection; a site gallery change is the daemon's one reload.
      const siteChanged = async () => {
        const result = await reload('fleet');
        if ('refused' in result) throw new Error(result.refused);
      };
      bridge = await (deps.startMqtt ?? startMqttTransport)(settings, log, port, fleet ? { features: [(link) => fleet.feature(link, siteChanged)] } : {});
      sinks.add('mqtt', bridge);
      const started = bridge;
      cleanup.push(() => started.close());
    }
    door.start();

    // Triggers: every source ends in door.trigger(); the door refuses what it cannot take.
    const press = (trigger: Trigger) => void door.trigger(trigger);
    const stopTriggers: StopTrigger[] = [];
    cleanup.push(() => stopTriggers.forEach((stopTrigger) => stopTrigger()));
    gpio.button.onPress(() => press('button'));
    await gpio.button.start();
    stopTriggers.push(() => void gpio.button.stop());
    if (deps.signals) stopTriggers.push(onSignalPress('SIGUSR1', () => press('signal'), deps.signals));
    let requestQuit!: () => void;
    const quitRequested = new Promise<void>((resolve) => (requestQuit = resolve));
    let keyboardListening = false;
    if (settings.keyboard.enabled) {
      const stopKeys = startKeyboard(deps.keyboardInput ?? process.stdin, { verify: () => press('keyboard'), quit: () => requestQuit() }, log);
      keyboardListening = stopKeys !== null;
      if (stopKeys) {
        stopTriggers.push(stopKeys);
        // Even a crash must not leave the user's terminal in raw mode.
        deps.onProcessExit?.(stopKeys);
      }
    }

    logFirstRunHints(settings, verifier, camera, log, keyboardListening);
    // "press v" only when a keyboard really listens (a terminal on stdin), not under systemd or in a pipe.
    const presses = ['press the button', 'send SIGUSR1', ...(keyboardListening ? ['press "v" in this terminal'] : [])];
    log.info({ camera: settings.camera.driver, gpio: settings.gpio.driver, mqtt: settings.mqtt.enabled, sinks: sinks.names(),
      pid: process.pid }, `facegate is running: ${presses.slice(0, -1).join(', ')} or ${presses.at(-1)}`);

    let stopping: Promise<void> | null = null;
    const stop = (reason: string) => (stopping ??= (async () => {
      log.info({ reason }, 'stopping');
      for (const stopTrigger of stopTriggers) stopTrigger();
      // The door first: it aborts the attempt and de-energises the relay before anything can hang.
      await door.stop();
      gpio.relay.set(false);
      await bridge?.close().catch((err: unknown) => log.error({ err }, 'MQTT bridge did not close cleanly'));
      await Promise.allSettled([camera.stop(), verifier.close()]);
      await gpio.release().catch((err: unknown) => log.error({ err }, 'GPIO release failed'));
      clearInterval(refresh);
      statusFile?.status(door.status());
      statusFile?.flush();
      await Promise.allSettled([audit?.close(), guard.close()]);
      log.info({ relay: gpio.relay.isOn() ? 'on' : 'off' }, 'stopped: relay off');
    })());

    return {
      door, relay: gpio.relay, sinks, stop, quitRequested, reload,
      healthy: () => stopping === null && camera.status().healthy && verifier.info().healthy,
    };
  } catch (error) {
    await undo();
    throw error;
  }
}

/** The one gallery reload, whoever asks for it (SIGHUP, `facegate reload`, cmd/reload). */
function reloader(verifier: Verifier, log: Logger): (origin: string) => Promise<ReloadResult> {
  return async (origin) => {
    try {
      const info = await verifier.reload();
      log.info({ ...info, origin }, 'gallery reloaded');
      return { ok: true };
    } catch (error) {
      log.error({ err: error, origin }, 'gallery reload failed');
      return { refused: `reload failed: ${error instanceof Error ? error.message : String(error)}` };
    }
  };
}

/** Tells a first-time user what to do next, instead of leaving them to wonder why every attempt fails. */
function logFirstRunHints(settings: Settings, verifier: Verifier, camera: Camera, log: Logger, keyboardListening: boolean): void {
  const liveness = verifier.liveness();
  if (liveness.warning) log.warn({ liveness: liveness.mode, camera: settings.camera.driver }, `!!! ${liveness.warning} !!!`);
  else log.info({ liveness: liveness.mode, burstFrames: liveness.burstFrames, burstMaxMs: liveness.burstDurationMs }, 'liveness checks on: each attempt takes a burst of frames');
  const info = verifier.info();
  if (info.identities === 0) {
    log.warn({ gallery: galleryDir(settings) },
      'no one is enrolled yet, so every attempt is denied. Enroll someone with ' +
      '"npx facegate enroll NAME --images DIR" (a folder of their photos) or take the photos with "npx facegate collect"');
  }
  if (settings.camera.driver === 'files' && camera.status().lastFrameAgeMs === null) {
    log.warn({ folder: cameraFolder(settings) },
      `the folder camera sees nothing yet: copy a photo of a face into ${cameraFolder(settings)} ` +
      `(the newest image is what the camera sees), then ${keyboardListening ? 'press "v" here or ' : ''}run "kill -USR1 ${process.pid}"`);
  }
}

/** The real verifier and MQTT bridge, loaded only when used (they pull in tfjs and mqtt). */
async function loadVerifier(settings: Settings, log: Logger, extra: VerifierExtras): Promise<Verifier> {
  const { createVerifier } = await import('../face/verifier.js');
  // Warmed up before startDaemon returns, so before READY=1: the first press is as fast as later ones.
  return createVerifier(settings, log, { ...extra, warmUp: { width: settings.camera.width, height: settings.camera.height } });
}

async function loadFleet(settings: Settings, log: Logger): Promise<FleetDoor> {
  const { openFleetDoor } = await import('../fleet/door.js');
  return openFleetDoor(settings, log);
}
