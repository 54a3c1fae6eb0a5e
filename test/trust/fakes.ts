import { readFileSync } from 'node:fs';
import type { Camera, CameraStatus, Frame } from '../../src/camera/camera.js';
import type { GalleryInfo, Verifier, VerifyResult } from '../../src/core/types.js';

/** A verifier result; the model is irrelevant to the fault tests, only the door's reaction to it matters. */
export function verdict(decision: VerifyResult['decision'], identity: string | null = null): VerifyResult {
  return {
    decision, identity, fraction: decision === 'granted' ? 0.9 : 0.1, meanScore: 0.5, perIdentity: [],
    thresholds: { detection: 0.5, verification: 0.5 }, face: null,
    timings: { decode: 1, detect: 1, embed: 1, compare: 1, total: 4 }, backend: 'fake', liveness: 'not_checked',
  };
}

/**
 * A model-free verifier that grants any real JPEG and counts how many verifications overlap,
 * so a test can prove that at most one attempt is ever in flight.
 */
export class CountingVerifier implements Verifier {
  calls = 0;
  inFlight = 0;
  maxInFlight = 0;
  constructor(private readonly delayMs = 0) {}
  async verify(image: Buffer): Promise<VerifyResult> {
    this.calls++;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.delayMs) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
      const isJpeg = image.length > 4 && image[0] === 0xff && image[1] === 0xd8;
      return isJpeg ? verdict('granted', 'alice') : verdict('denied');
    } finally {
      this.inFlight--;
    }
  }
  liveness() {
    return { mode: 'off', burstFrames: 1, burstDurationMs: 0 };
  }
  async reload(): Promise<GalleryInfo> {
    return { identities: 1, images: 1, model: 'fake' };
  }
  info(): GalleryInfo & { backend: string; healthy: boolean } {
    return { identities: 1, images: 1, model: 'fake', backend: 'fake', healthy: true };
  }
  async close(): Promise<void> {}
}

const TINY_JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46, 0, 1, 0xff, 0xd9]);

/** A warm camera that always has a fresh frame, counting overlapping grabs. */
export class InstantCamera implements Camera {
  grabs = 0;
  inFlight = 0;
  maxInFlight = 0;
  async start(): Promise<void> {}
  async grab(): Promise<Frame> {
    this.grabs++;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await Promise.resolve();
    this.inFlight--;
    return { data: TINY_JPEG, capturedAt: Date.now(), source: 'instant' };
  }
  async burst(): Promise<Frame[]> {
    return [await this.grab()];
  }
  status(): CameraStatus {
    return { driver: 'instant', healthy: true, fps: 10, lastFrameAgeMs: 0, restarts: 0 };
  }
  async stop(): Promise<void> {}
}

/** Children of this process whose command line mentions `needle` (Linux /proc). */
export function childPids(needle: string): number[] {
  let list: string;
  try {
    list = readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, 'utf8');
  } catch {
    return [];
  }
  return list.trim().split(/\s+/).filter(Boolean).map(Number).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(needle);
    } catch {
      return false;
    }
  });
}
