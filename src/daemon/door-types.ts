import type { Camera } from '../camera/camera.js';
import type { Clock } from '../core/clock.js';
import type { Settings } from '../config/index.js';
import type { AttemptEvent, EventSink, StatusEvent } from '../core/events.js';
import type { Output } from '../gpio/gpio.js';
import type { Logger } from '../log.js';
import type { Verifier } from '../core/types.js';
import type { LockoutStore } from './lockout.js';

/** The door's vocabulary and options (door.ts holds the state machine that uses them). */

export type Phase = 'idle' | 'capturing' | 'verifying' | 'cooldown' | 'stopped';
export type Refusal = 'busy' | 'cooldown' | 'locked_out' | 'stopped';
export type TriggerOutcome =
  | { accepted: true; event: AttemptEvent }
  | { accepted: false; reason: Refusal; lockedOutUntil: string | null };

/** A remote request nobody authenticated gets its own lockout budget (see Door.trigger). */
export type TriggerOptions = { unauthenticated?: boolean };

export interface DoorLeds {
  green: Output | null;
  red: Output | null;
  busy: Output | null;
}

export interface DoorOptions {
  settings: Pick<Settings, 'door' | 'security'>;
  camera: Camera;
  verifier: Verifier;
  relay: Output;
  leds: DoorLeds;
  sink: EventSink;
  clock: Clock;
  log: Logger;
  /** Attempt ids; the daemon passes random ones, tests pass a counter. */
  newId: () => string;
  /** Ask the verifier for a JPEG of the face crop and hand it to the sinks (audit/MQTT snapshots). */
  wantSnapshot?: boolean;
  /** Where the lockout survives a restart (<paths.state>/lockout.json); none = in memory only (tests). */
  lockoutStore?: LockoutStore;
  /**
   * audit.required: every attempt is recorded before its outcome takes effect; when recording fails, a granted
   * attempt becomes an error and the relay stays off (an error does not count towards lockout).
   */
  recordFirst?: (event: AttemptEvent, snapshot?: Buffer) => Promise<boolean>;
  /** Audit health and degraded features, for the status. */
  health?: () => Pick<StatusEvent, 'audit' | 'degraded'>;
}
