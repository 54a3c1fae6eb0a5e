import type { AttemptEvent, Trigger } from '../core/events.js';
import type { VerifyResult } from '../core/types.js';

/** What the door knows about an attempt besides the verifier's answer. */
export interface AttemptFacts {
  id: string;
  startedAt: number;
  endedAt: number;
  trigger: Trigger;
  commandId: string | undefined;
  /** Time to the frame; undefined when no frame came. */
  captureMs: number | undefined;
}

/** The one AttemptEvent for a verified frame. `total` is the door's wall time, capture included. */
export function eventFromResult(facts: AttemptFacts, result: VerifyResult): AttemptEvent {
  const { total: _verifierTotal, ...stages } = result.timings;
  return {
    id: facts.id, ts: iso(facts.startedAt), trigger: facts.trigger, decision: result.decision, identity: result.identity,
    fraction: result.fraction, meanScore: result.meanScore, thresholds: result.thresholds,
    timings: { ...stages, capture: facts.captureMs, total: facts.endedAt - facts.startedAt },
    face: result.face, perIdentity: result.perIdentity, reason: result.reason, commandId: facts.commandId, closest: result.closest,
    ...(result.liveness ? { liveness: result.liveness } : {}),
  };
}

/** An attempt that ended without a decision about a person: no frame, a timeout, a failure, a shutdown. */
export function errorEvent(facts: AttemptFacts, reason: string): AttemptEvent {
  return {
    id: facts.id, ts: iso(facts.startedAt), trigger: facts.trigger, decision: 'error', identity: null,
    fraction: 0, meanScore: 0, thresholds: null,
    timings: { capture: facts.captureMs, total: facts.endedAt - facts.startedAt },
    face: null, reason, commandId: facts.commandId,
  };
}

/** A remote unlock: an opening without a face, recorded like any attempt (trigger `remote`, the command id). */
export function remoteUnlockEvent(id: string, at: number, commandId: string, pulsed: boolean): AttemptEvent {
  return {
    id, ts: iso(at), trigger: 'remote', decision: pulsed ? 'granted' : 'error', identity: null,
    fraction: 0, meanScore: 0, thresholds: null, timings: { total: 0 }, face: null,
    reason: pulsed ? 'remote unlock' : 'remote unlock: the relay pulse failed', commandId,
  };
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}
