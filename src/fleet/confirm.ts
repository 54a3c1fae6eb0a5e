import type { FleetTopics } from './topics.js';
import type { FleetTransport } from './transport.js';

/**
 * After an enrolment or revocation: which doors have taken it. A door confirms by publishing its fleet state
 * with a gallery version at least the new one; an offline door (availability `offline`) will take it when it
 * reconnects, from the retained entry. Waits until every online door confirmed, or waitMs.
 */
export interface Confirmation {
  applied: string[];
  offline: string[];
  pending: string[];
}

export async function confirmDoors(transport: FleetTransport, topics: FleetTopics, version: number, waitMs: number): Promise<Confirmation> {
  const online = new Map<string, boolean>();
  const versions = new Map<string, number>();
  let settle!: () => void;
  const done = new Promise<void>((resolve) => (settle = resolve));
  const check = () => {
    const waiting = [...online].filter(([id, up]) => up && (versions.get(id) ?? 0) < version);
    if (online.size > 0 && waiting.length === 0) settle();
  };
  const stop = transport.onMessage((topic, payload) => {
    const available = topics.deviceOf(topic, 'availability');
    if (available) online.set(available, payload.toString() === 'online');
    const door = topics.deviceOf(topic, 'fleet');
    if (door) {
      try {
        versions.set(door, Number((JSON.parse(payload.toString()) as { galleryVersion?: unknown }).galleryVersion) || 0);
        if (!online.has(door)) online.set(door, true);
      } catch {
        // not a fleet state: ignore
      }
    }
    check();
  });
  const timer = setTimeout(settle, waitMs);
  try {
    await transport.subscribe([topics.availabilityFilter, topics.fleetFilter]);
    await done;
  } finally {
    clearTimeout(timer);
    stop();
    await transport.unsubscribe([topics.availabilityFilter, topics.fleetFilter]).catch(() => undefined);
  }
  const ids = [...online.keys()].sort();
  return {
    applied: ids.filter((id) => (versions.get(id) ?? 0) >= version),
    offline: ids.filter((id) => !online.get(id) && (versions.get(id) ?? 0) < version),
    pending: ids.filter((id) => online.get(id) && (versions.get(id) ?? 0) < version),
  };
}
