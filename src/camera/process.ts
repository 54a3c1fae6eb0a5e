import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import type { Logger } from '../log.js';
import type { BurstRequest, Camera, CameraStatus, Frame } from './camera.js';
import { FrameStore } from './frame-store.js';
import { JpegFrameSplitter } from './mjpeg.js';

/**
 * A capture program (rpicam-vid, ffmpeg) that writes MJPEG to stdout, kept alive: its output is split into
 * frames, only the newest is kept, and when it dies it is restarted with exponential backoff. Spawned
 * without a shell, so nothing in the config is ever interpreted by one.
 */
export interface ProcessCameraOptions {
  driver: string;
  command: string;
  args: string[];
  maxAgeMs: number;
  restartMinMs: number;
  restartMaxMs: number;
  logger: Logger;
  /** Frames larger than this are dropped (bounds memory if the stream is corrupt). */
  maxFrameBytes?: number;
  env?: NodeJS.ProcessEnv;
  /** Sees every complete frame (a live preview, tests); grab() still only hands out the newest. */
  onFrame?: (frame: Frame) => void;
}

/** A run longer than this counts as healthy, so the next failure starts the backoff from the minimum again. */
const STABLE_RUN_MS = 10_000;
const STOP_GRACE_MS = 2_000;
const STDERR_TAIL_BYTES = 2_000;

export class ProcessCamera implements Camera {
  private child: ChildProcess | null = null;
  private running = false;
  private restarts = 0;
  private nextDelayMs: number;
  private restartTimer: NodeJS.Timeout | null = null;
  private stderrTail = '';
  private lastError: string | undefined;
  private readonly frames: FrameStore;
  private readonly name: string;

  constructor(private readonly options: ProcessCameraOptions) {
    this.nextDelayMs = options.restartMinMs;
    this.name = options.command.split('/').pop() ?? options.command;
    this.frames = new FrameStore(options.maxAgeMs);
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.frames.begin();
    this.spawnChild();
  }

  grab(signal?: AbortSignal): Promise<Frame> {
    if (!this.running) return Promise.reject(new Error(`${this.options.driver} camera is not started`));
    return this.frames.fresh(signal, (waitedMs) => this.noFrameError(waitedMs));
  }

  /** Frames straight from the stream: (count - 1) frame intervals long (400 ms for 5 frames at 10 fps). */
  burst(request: BurstRequest, signal?: AbortSignal): Promise<Frame[]> {
    if (!this.running) return Promise.reject(new Error(`${this.options.driver} camera is not started`));
    return this.frames.burst(request, signal, (waitedMs) => this.noFrameError(waitedMs));
  }

  status(): CameraStatus {
    const age = this.frames.lastFrameAgeMs();
    const healthy = this.running && this.child !== null && age !== null && age <= this.options.maxAgeMs;
    return {
      driver: this.options.driver,
      healthy,
      fps: this.frames.fps(),
      lastFrameAgeMs: age,
      restarts: this.restarts,
      ...(healthy ? {} : { lastError: this.lastError ?? (age === null ? 'no frame yet' : `no frame for ${age} ms`) }),
    };
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    this.frames.close(new Error(`${this.options.driver} camera stopped`));
    const child = this.child;
    if (!child) return;
    await terminate(child);
    this.child = null;
  }

  /** The last lines the capture program wrote to stderr, for error messages and logs. */
  stderr(): string {
    return this.stderrTail.trim();
  }

  private noFrameError(waitedMs: number): Error {
    const age = this.frames.lastFrameAgeMs();
    const since = age === null ? `no frame yet (waited ${waitedMs} ms)` : `no frame for ${age} ms`;
    const tail = this.stderr().split('\n').slice(-3).join(' | ');
    const why = this.lastError ? `; ${this.lastError}` : '';
    return new Error(`${since}${why}; ${this.name} stderr: ${tail || '(empty)'}`);
  }

  private spawnChild(): void {
    const { command, args, logger } = this.options;
    const startedAt = Date.now();
    const splitter = new JpegFrameSplitter((jpeg) => {
      this.frames.put(jpeg, this.options.driver);
      this.options.onFrame?.({ data: jpeg, capturedAt: Date.now(), source: this.options.driver });
    }, {
      ...(this.options.maxFrameBytes ? { maxFrameBytes: this.options.maxFrameBytes } : {}),
    });
    let spawnError: Error | null = null;
    const child = spawn(command, args, { shell: false, stdio: ['ignore', 'pipe', 'pipe'], env: this.options.env ?? process.env });
    this.child = child;
    this.stderrTail = '';
    child.stdout!.on('data', (chunk: Buffer) => splitter.push(chunk));
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => {
      this.stderrTail = (this.stderrTail + text).slice(-STDERR_TAIL_BYTES);
    });
    child.on('error', (error) => {
      spawnError = error;
    });
    child.on('close', (code, signal) => {
      if (this.child === child) this.child = null;
      const ranMs = Date.now() - startedAt;
      const cause = spawnError
        ? describeSpawnError(command, spawnError)
        : `${this.name} exited with ${signal ? `signal ${signal}` : `code ${code}`} after ${ranMs} ms`;
      if (!this.running) return; // stopped on purpose: not an error
      this.lastError = cause;
      if (ranMs >= STABLE_RUN_MS) this.nextDelayMs = this.options.restartMinMs;
      const delay = this.nextDelayMs;
      this.nextDelayMs = Math.min(this.nextDelayMs * 2, this.options.restartMaxMs);
      logger.warn(
        { driver: this.options.driver, cause, stderr: this.stderr().slice(-500), restartInMs: delay, restarts: this.restarts },
        `${cause}; restarting in ${delay} ms`,
      );
      this.restartTimer = setTimeout(() => {
        this.restartTimer = null;
        if (!this.running) return;
        this.restarts++;
        this.spawnChild();
      }, delay);
    });
  }
}

function describeSpawnError(command: string, error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return `${command} not found (set camera.command or install it)`;
  if (code === 'EACCES') return `${command} is not executable (check its permissions)`;
  return `cannot start ${command}: ${error.message}`;
}

/** SIGTERM, then SIGKILL after a grace period; resolves once the process is gone. */
export function terminate(child: ChildProcess, graceMs = STOP_GRACE_MS): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const killTimer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('close', () => {
      clearTimeout(killTimer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** The first of `names` that is an executable file on PATH (or the path itself when it has a slash). */
export function findExecutable(names: string[], pathVariable = process.env.PATH ?? ''): string | null {
  for (const name of names) {
    const candidates = isAbsolute(name) || name.includes('/') ? [name] : pathVariable.split(delimiter).filter(Boolean).map((dir) => join(dir, name));
    for (const candidate of candidates) {
      try {
        accessSync(candidate, constants.X_OK);
        return candidate;
      } catch {
        // not here; try the next one
      }
    }
  }
  return null;
}
