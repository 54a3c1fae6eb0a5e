import { constants, watch, type FSWatcher } from 'node:fs';
import { lstat, mkdir, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { BurstRequest, Camera, CameraStatus, Frame } from './camera.js';
import { systemClock, type Clock } from '../core/clock.js';
import type { Logger } from '../log.js';

/** Extensions the vision layer decodes. Anything else in the folder (notes, .part downloads) is ignored. */
const IMAGE_FILE = /^[^.].*\.(jpe?g|png|webp|pgm)$/i;

interface NewestImage {
  path: string;
  mtimeMs: number;
  size: number;
}

/**
 * The camera of the embedded default: a folder whose newest image is "what the camera sees". Copy a
 * photo into it and the next attempt uses that photo. fs.watch keeps the status fresh and logs each new
 * image; grab() rescans anyway, because watch events get lost (network folders, editors that rename).
 */
export class FolderCamera implements Camera {
  private newest: NewestImage | null = null;
  private watcher: FSWatcher | null = null;
  private rescanTimer: NodeJS.Timeout | null = null;
  private lastError: string | undefined;
  private started = false;

  constructor(
    private readonly folder: string,
    private readonly log: Logger,
    private readonly clock: Clock = systemClock,
  ) {}

  async start(): Promise<void> {
    await mkdir(this.folder, { recursive: true });
    this.started = true;
    await this.rescan();
    try {
      this.watcher = watch(this.folder, () => this.scheduleRescan());
      this.watcher.on('error', (error) => {
        this.log.warn({ err: error, folder: this.folder }, 'cannot watch the camera folder; rescanning on each grab');
        this.watcher?.close();
        this.watcher = null;
      });
    } catch (error) {
      this.log.warn({ err: error, folder: this.folder }, 'cannot watch the camera folder; rescanning on each grab');
    }
    this.log.info({ folder: this.folder, image: this.newest?.path ?? null }, 'folder camera started');
  }

  async grab(signal?: AbortSignal): Promise<Frame> {
    signal?.throwIfAborted();
    if (!this.started) throw new Error('the folder camera is not started');
    // A file still being copied changes size between two looks; read again until it holds still.
    for (let tries = 0; tries < 5; tries++) {
      await this.rescan();
      const image = this.newest;
      if (!image) {
        throw new Error(`no frame: ${this.folder} holds no image (.jpg, .png, .webp, .pgm); copy a photo of a face into it`);
      }
      const read = await readRegularFile(image.path, signal);
      if (read && read.size === read.data.length && read.mtimeMs === image.mtimeMs) {
        return { data: read.data, capturedAt: image.mtimeMs, source: image.path };
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`no frame: ${this.newest?.path ?? this.folder} keeps changing while being read`);
  }

  /**
   * A folder cannot stream: a burst is the newest `count` images in it, in name order (copy a burst's frames
   * 000.jpg, 001.jpg, ... into the folder to stand in for a stream; verify --burst DIR does the same). With the
   * usual single photo the burst is one frame, which cannot show liveness: the daemon says so at start.
   */
  async burst(request: BurstRequest, signal?: AbortSignal): Promise<Frame[]> {
    signal?.throwIfAborted();
    if (!this.started) throw new Error('the folder camera is not started');
    const images: NewestImage[] = [];
    for (const name of await readdir(this.folder)) {
      if (!IMAGE_FILE.test(name)) continue;
      const path = join(this.folder, name);
      // Like rescan(): lstat, so a symlink is never an image of this folder.
      const info = await lstat(path).catch(() => null);
      if (info?.isFile() && info.size > 0) images.push({ path, mtimeMs: info.mtimeMs, size: info.size });
    }
    if (images.length === 0) throw new Error(`no frame: ${this.folder} holds no image (.jpg, .png, .webp, .pgm); copy a photo of a face into it`);
    const newest = images.sort((a, b) => b.mtimeMs - a.mtimeMs || (b.path < a.path ? -1 : 1)).slice(0, Math.max(1, request.count));
    newest.sort((a, b) => (a.path < b.path ? -1 : 1));
    const frames: Frame[] = [];
    for (const image of newest) {
      // A frame replaced by a symlink or a FIFO between the scan and the read is left out.
      const read = await readRegularFile(image.path, signal);
      if (read) frames.push({ data: read.data, capturedAt: image.mtimeMs, source: image.path });
    }
    if (frames.length === 0) throw new Error(`no frame: the images in ${this.folder} went away while being read`);
    return frames;
  }

  status(): CameraStatus {
    return {
      driver: 'files',
      healthy: this.started && this.lastError === undefined,
      fps: 0,
      lastFrameAgeMs: this.newest ? Math.max(0, this.clock.now() - this.newest.mtimeMs) : null,
      restarts: 0,
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  async stop(): Promise<void> {
    this.started = false;
    if (this.rescanTimer) clearTimeout(this.rescanTimer);
    this.rescanTimer = null;
    this.watcher?.close();
    this.watcher = null;
  }

  private scheduleRescan(): void {
    if (this.rescanTimer || !this.started) return;
    // Copies arrive as bursts of events; one rescan after the burst is enough.
    this.rescanTimer = setTimeout(() => {
      this.rescanTimer = null;
      const before = this.newest?.path;
      void this.rescan().then(() => {
        if (this.newest && this.newest.path !== before) {
          this.log.info({ image: this.newest.path }, 'the folder camera now sees a new image');
        }
      });
    }, 100);
    this.rescanTimer.unref();
  }

  private async rescan(): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.folder);
      this.lastError = undefined;
    } catch (error) {
      this.lastError = `cannot read ${this.folder}: ${(error as Error).message}`;
      this.newest = null;
      return;
    }
    let newest: NewestImage | null = null;
    for (const name of names) {
      if (!IMAGE_FILE.test(name)) continue;
      const path = join(this.folder, name);
      // lstat, not stat: a symlink (to /etc/shadow, say) is not an image of this folder and is never followed.
      const info = await lstat(path).catch(() => null);
      if (!info?.isFile() || info.size === 0) continue;
      // Ties (same mtime, e.g. a bulk copy) go to the later name, so the choice is stable.
      if (!newest || info.mtimeMs > newest.mtimeMs || (info.mtimeMs === newest.mtimeMs && path > newest.path)) {
        newest = { path, mtimeMs: info.mtimeMs, size: info.size };
      }
    }
    this.newest = newest;
  }
}

/**
 * Reads a regular file that sits in the folder itself: O_NOFOLLOW refuses a symlink swapped in after the scan,
 * and the open handle's own stat refuses a FIFO or device. null when the entry is not such a file any more.
 */
async function readRegularFile(path: string, signal?: AbortSignal): Promise<{ data: Buffer; size: number; mtimeMs: number } | null> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    if (['ELOOP', 'ENOENT', 'EMLINK'].includes((error as NodeJS.ErrnoException).code ?? '')) return null;
    throw error;
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) return null;
    const data = await handle.readFile({ signal });
    const after = await handle.stat();
    return { data, size: after.size, mtimeMs: after.mtimeMs };
  } finally {
    await handle.close();
  }
}
