import type { ClosestMatch, Decision, FaceBox, IdentityScore, LivenessReport, StageTimings, Thresholds } from './types.js';

/**
 * What started an attempt. `remote` is an opening without a face (a signed remote unlock): it is an attempt
 * too, so every opening has its event, audit line and Home Assistant logbook entry.
 */
export type Trigger = 'button' | 'signal' | 'keyboard' | 'mqtt' | 'remote';

/** The one record of an attempt: MQTT payload, audit line and log entry alike. */
export interface AttemptEvent {
  id: string;
  /** ISO-8601 time the attempt started. */
  ts: string;
  trigger: Trigger;
  decision: Decision;
  /** The person let in; null unless granted. */
  identity: string | null;
  /** Diagnostic: the nearest enrolled person and their scores, also when denied; null/absent without one. */
  closest?: ClosestMatch | null;
  fraction: number;
  meanScore: number;
  thresholds: Thresholds | null;
  timings: Partial<StageTimings> & { capture?: number; total: number };
  face: FaceBox | null;
  perIdentity?: IdentityScore[];
  /** For no_face, spoof, error and denied-with-a-reason. */
  reason?: string;
  /** The liveness stage's outcome; absent on error events that never reached it. */
  liveness?: LivenessReport;
  /** Id of the command (cmd/verify, cmd/unlock) that asked for it, when one did. */
  commandId?: string;
}

export type DoorMode = 'idle' | 'busy' | 'cooldown' | 'locked_out';

/** The daemon's current state, published retained. */
export interface StatusEvent {
  ts: string;
  mode: DoorMode;
  relay: boolean;
  camera: { driver: string; healthy: boolean; fps: number; lastFrameAgeMs: number | null };
  gallery: { identities: number; images: number };
  model: string;
  backend: string;
  /** meanScore is here (retained) so a dashboard shows the last score again after it restarts. */
  lastAttempt: Pick<AttemptEvent, 'id' | 'ts' | 'decision' | 'identity' | 'meanScore'> | null;
  attemptsToday: number;
  lockedOutUntil: string | null;
  /** "failing" while attempts cannot be written to the audit log (disk full, read-only); "off" when disabled. */
  audit?: 'ok' | 'failing' | 'off';
  /** What runs degraded and why, in words (e.g. a read-only state dir); empty when all is well. */
  degraded?: string[];
  /** The liveness mode in force; `warning` says loudly when it is off or cannot work (the folder camera). */
  liveness: { mode: string; warning?: string };
}

/** Where events go: MQTT, the audit log, the pino log. Sinks never throw into the door. */
export interface EventSink {
  attempt(event: AttemptEvent, snapshot?: Buffer): Promise<void>;
  status(event: StatusEvent): Promise<void>;
}
