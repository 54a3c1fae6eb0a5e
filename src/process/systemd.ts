import { spawn } from 'node:child_process';
import type { Settings } from '../config/index.js';
import type { Output } from '../gpio/gpio.js';
import type { Logger } from '../log.js';
import { Lifecycle } from './lifecycle.js';
import { Watchdog, eventLoopProbe } from './watchdog.js';

export type NotifyMode = 'auto' | 'always' | 'never';

export interface SystemdNotifierOptions {
  /** systemd.notify: "auto" = only when systemd gave us NOTIFY_SOCKET. */
  mode: NotifyMode;
  log: Logger;
  env?: NodeJS.ProcessEnv;
  pid?: number;
  /** The helper program; found on PATH. */
  command?: string;
  /** A notify call that takes longer than this is abandoned (systemd-notify waits for systemd to acknowledge). */
  timeoutMs?: number;
}

/**
 * Talks to systemd through the `systemd-notify` program. Node cannot send on a unix datagram socket without a
 * native addon, and systemd-notify is on every systemd machine; the unit sets NotifyAccess=all because the
 * message comes from this short-lived child rather than the main process (newer systemd-notify also waits
 * for systemd to take the message before it exits, which closes the old race on short-lived senders).
 * Failures are logged, never thrown: a missing notify is systemd's timeout to handle, not a reason to crash.
 */
export class SystemdNotifier {
  readonly enabled: boolean;
  private readonly env: NodeJS.ProcessEnv;
  private readonly pid: number;
  private readonly command: string;
  private readonly timeoutMs: number;
  private warnedMissing = false;

  constructor(private readonly options: SystemdNotifierOptions) {
    this.env = options.env ?? process.env;
    this.pid = options.pid ?? process.pid;
    this.command = options.command ?? 'systemd-notify';
    this.timeoutMs = options.timeoutMs ?? 5000;
    const socket = this.env.NOTIFY_SOCKET;
    this.enabled = options.mode === 'always' || (options.mode === 'auto' && typeof socket === 'string' && socket !== '');
    if (options.mode === 'always' && !socket) {
      options.log.warn('systemd.notify is "always" but NOTIFY_SOCKET is not set: systemd-notify will have nowhere to send');
    }
  }

  /**
   * How often to ping WATCHDOG=1: half of WATCHDOG_USEC, as sd_watchdog_enabled(3) advises. null when systemd
   * asked for no watchdog, or asked it of another process (WATCHDOG_PID).
   */
  watchdogIntervalMs(): number | null {
    if (!this.enabled) return null;
    const usec = Number(this.env.WATCHDOG_USEC);
    if (!Number.isFinite(usec) || usec <= 0) return null;
    const forPid = this.env.WATCHDOG_PID;
    if (forPid && Number(forPid) !== this.pid) return null;
    return Math.max(1, Math.floor(usec / 2000));
  }

  /** READY=1: call only once camera, model and MQTT are up; systemd then starts units ordered after us. */
  notifyReady(status = 'ready'): Promise<boolean> {
    return this.send(['--ready', `--pid=${this.pid}`, `--status=${status}`]);
  }

  notifyWatchdog(): Promise<boolean> {
    return this.send(['WATCHDOG=1']);
  }

  notifyStopping(): Promise<boolean> {
    return this.send(['STOPPING=1', 'STATUS=stopping']);
  }

  notifyStatus(status: string): Promise<boolean> {
    return this.send([`--status=${status}`]);
  }

  /** Resolves true when systemd-notify exited 0. */
  private send(args: string[]): Promise<boolean> {
    if (!this.enabled) return Promise.resolve(false);
    return new Promise((resolve) => {
      let settled = false;
      const done = (ok: boolean, problem?: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (problem) this.options.log.warn({ args }, `systemd-notify: ${problem}`);
        resolve(ok);
      };
      const child = spawn(this.command, args, { env: this.env, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-500)));
      child.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') {
          if (!this.warnedMissing) this.options.log.warn(`${this.command} not found on PATH: systemd will not hear READY or WATCHDOG`);
          this.warnedMissing = true;
          done(false);
        } else done(false, error.message);
      });
      child.on('exit', (code, signal) => done(code === 0, code === 0 ? undefined : `exited ${code ?? signal}: ${stderr.trim()}`));
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        done(false, `no answer within ${this.timeoutMs} ms`);
      }, this.timeoutMs);
      timer.unref();
    });
  }
}

/** How long READY waits for the first camera frames (below the unit's TimeoutStartSec=180). */
export const READY_WAIT_MS = 30_000;

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (condition()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export interface Supervised {
  /** The door relay (the guarded one), switched off by every fail-safe path. */
  relay: Pick<Output, 'set' | 'isOn'>;
  /** Camera and model working and not stopping: the condition for each WATCHDOG=1. */
  healthy(): boolean;
}

export interface Supervision {
  lifecycle: Lifecycle;
  notifier: SystemdNotifier;
  watchdog: Watchdog | null;
  /** Tells systemd STOPPING=1 and stops the watchdog pings; call when shutdown begins. */
  stopping(): Promise<void>;
}

/**
 * Everything between a started daemon and systemd: the process fail-safes, READY=1 (the daemon is only handed
 * over once camera, model and MQTT are up), and a watchdog that pings only while the event loop and the daemon
 * are healthy and drops the relay as soon as they are not.
 */
export async function superviseDaemon(settings: Pick<Settings, 'systemd'>, log: Logger, daemon: Supervised,
  env: NodeJS.ProcessEnv = process.env, readyWaitMs = READY_WAIT_MS, owner?: Lifecycle): Promise<Supervision> {
  // `facegate run` installs its lifecycle before anything else and passes it; tests get their own.
  const lifecycle = owner ?? new Lifecycle({ relay: daemon.relay, log }).install();
  const notifier = new SystemdNotifier({ mode: settings.systemd.notify, log, env });
  const intervalMs = notifier.watchdogIntervalMs();
  let watchdog: Watchdog | null = null;
  if (intervalMs !== null) {
    watchdog = new Watchdog({
      pinger: notifier,
      intervalMs,
      // A loop stalled for a whole ping interval could not have kept the door's own timers either.
      probes: [eventLoopProbe(intervalMs), { name: 'daemon', check: () => (daemon.healthy() ? null : 'camera or verifier unhealthy') }],
      log,
      onUnhealthy: () => lifecycle.relayOff('watchdog: unhealthy'),
    });
    watchdog.start();
  }
  // startDaemon has loaded the model and started camera and MQTT bridge; a streaming camera still needs its
  // first frame. Past the wait, READY goes out anyway: the watchdog then withholds pings until it is healthy.
  const healthy = await waitUntil(() => daemon.healthy(), readyWaitMs);
  if (!healthy) log.warn({ waitedMs: readyWaitMs }, 'not healthy yet (camera frames, model); READY anyway, the watchdog decides');
  await notifier.notifyReady(healthy ? 'door ready' : 'door started, camera or model not healthy yet');
  if (notifier.enabled) log.info({ watchdogIntervalMs: intervalMs }, 'systemd told READY');
  return {
    lifecycle,
    notifier,
    watchdog,
    async stopping() {
      watchdog?.stop();
      await notifier.notifyStopping();
    },
  };
}
