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
 * A warm camera: start() begins capturing, grab() returns the newest frame quickly.
 * grab() rejects with a clear Error when no frame fresh enough exists by the deadline.
 */
export interface Camera {
  start(): Promise<void>;
  grab(signal?: AbortSignal): Promise<Frame>;
  status(): CameraStatus;
  stop(): Promise<void>;
}
