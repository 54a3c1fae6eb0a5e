/** One encoded still from a camera. Encoded bytes travel; decoding is the vision layer's job. */
export interface Frame {
  /** Encoded image bytes (JPEG from every streaming driver; the folder camera may hand over PNG or PGM). */
  readonly data: Buffer;
  /** Epoch milliseconds when the frame was complete. */
  readonly capturedAt: number;
  /** Where it came from, for logs: a file path, "rpicam", a URL. */
  readonly source: string;
}

export interface CameraStatus {
  readonly driver: string;
  /** True while frames arrive as expected (the watchdog asks this). */
  readonly healthy: boolean;
  /** Frames per second over the last few seconds; 0 when stalled. */
  readonly fps: number;
  /** Age of the newest frame in ms, or null before the first frame. */
  readonly lastFrameAgeMs: number | null;
  readonly restarts: number;
  /** Why the camera is unhealthy, when it is. */
  readonly lastError?: string;
}

/**
 * A short run of consecutive frames for the liveness checks: up to `count` frames, and no longer than
 * `durationMs` after the first (whichever comes first). The first frame is the newest at the call (the press).
 */
export interface BurstRequest {
  count: number;
  durationMs: number;
}

/**
 * A warm camera: start() begins capturing, grab() returns the newest frame quickly, burst() that frame and
 * the next ones as they arrive. Both reject with a clear Error when no frame fresh enough exists by the
 * deadline; a burst cut short by a stalled stream resolves with the frames it has (at least one).
 */
export interface Camera {
  start(): Promise<void>;
  grab(signal?: AbortSignal): Promise<Frame>;
  burst(request: BurstRequest, signal?: AbortSignal): Promise<Frame[]>;
  status(): CameraStatus;
  stop(): Promise<void>;
}
