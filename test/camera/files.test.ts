import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FolderCamera } from '../../src/camera/files.js';
import { captureLog } from '../daemon/fakes.js';

async function withFolder(fn: (folder: string) => Promise<void>) {
  const root = await mkdtemp(join(tmpdir(), 'facegate-camera-'));
  try {
    await fn(join(root, 'camera'));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

test('the folder camera creates its folder and reports "no frame" while it is empty', () =>
  withFolder(async (folder) => {
    const camera = new FolderCamera(folder, captureLog().log);
    await camera.start();
    try {
      assert.ok(existsSync(folder));
      await assert.rejects(camera.grab(), /no frame: .* holds no image/);
      assert.equal(camera.status().lastFrameAgeMs, null);
      assert.equal(camera.status().healthy, true);
    } finally {
      await camera.stop();
    }
  }));

test('the newest image is what the camera sees; other files are ignored', () =>
  withFolder(async (folder) => {
    const camera = new FolderCamera(folder, captureLog().log);
    await camera.start();
    try {
      const old = new Date('2026-01-01T00:00:00Z');
      const newer = new Date('2026-01-02T00:00:00Z');
      const newest = new Date('2026-01-03T00:00:00Z');
      await writeFile(join(folder, 'old.png'), 'old-bytes');
      await utimes(join(folder, 'old.png'), old, old);
      await writeFile(join(folder, 'new.JPG'), 'new-bytes');
      await utimes(join(folder, 'new.JPG'), newer, newer);
      for (const ignored of ['notes.txt', '.hidden.jpg', 'empty.jpg']) {
        await writeFile(join(folder, ignored), ignored === 'empty.jpg' ? '' : 'x');
        await utimes(join(folder, ignored), newest, newest);
      }
      const frame = await camera.grab();
      assert.equal(frame.source, join(folder, 'new.JPG'));
      assert.equal(frame.data.toString(), 'new-bytes');
      assert.equal(frame.capturedAt, newer.getTime());
      assert.ok((camera.status().lastFrameAgeMs ?? -1) > 0);

      await writeFile(join(folder, 'latest.webp'), 'latest-bytes');
      assert.equal((await camera.grab()).data.toString(), 'latest-bytes');
    } finally {
      await camera.stop();
    }
  }));

test('an aborted grab rejects without reading', () =>
  withFolder(async (folder) => {
    const camera = new FolderCamera(folder, captureLog().log);
    await camera.start();
    try {
      await writeFile(join(folder, 'a.jpg'), 'a');
      await assert.rejects(camera.grab(AbortSignal.abort(new Error('gone'))), /gone/);
    } finally {
      await camera.stop();
    }
  }));

test('a folder that cannot be read makes the camera unhealthy, with the reason', () =>
  withFolder(async (folder) => {
    const camera = new FolderCamera(folder, captureLog().log);
    await camera.start();
    try {
      await rm(folder, { recursive: true });
      await assert.rejects(camera.grab(), /no frame/);
      assert.equal(camera.status().healthy, false);
      assert.match(camera.status().lastError ?? '', /cannot read/);
    } finally {
      await camera.stop();
    }
  }));
