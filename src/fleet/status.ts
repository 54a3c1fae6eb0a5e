import type { StatusEvent } from '../core/events.js';
import { readHeader } from './envelope.js';
import { siteDigest } from './site-store.js';
import type { FleetTopics } from './topics.js';

/**
 * `facegate fleet status`: every door of the site from the retained messages alone (no key needed):
 * availability, the door's state (mode, lockout, last attempt) and its fleet state (model, gallery version
 * and digest), against the site gallery's own versions. A door whose digest differs from the site's lags.
 */
export interface DoorStatus {
  deviceId: string;
  online: boolean | null;
  mode: string | null;
  lockedOutUntil: string | null;
  lastAttempt: { ts: string; decision: string; identity: string | null } | null;
  model: string | null;
  galleryVersion: number | null;
  people: number | null;
  refused: number;
  /** in-sync | lags (behind the site) | ahead (holds versions the broker no longer has) | unknown (no fleet state). */
  gallery: 'in-sync' | 'lags' | 'ahead' | 'unknown';
}

export interface FleetStatus {
  site: { entries: number; version: number; digest: string };
  doors: DoorStatus[];
  warnings: string[];
}

interface FleetState {
  model?: string;
  galleryVersion?: number;
  galleryDigest?: string;
  people?: number;
  refused?: unknown[];
}

function json<T>(payload: Buffer | undefined): T | null {
  if (!payload) return null;
  try {
    return JSON.parse(payload.toString('utf8')) as T;
  } catch {
    return null;
  }
}

export function summarizeFleet(retained: Map<string, Buffer>, topics: FleetTopics): FleetStatus {
  const entries: Array<{ pid: string; ver: number }> = [];
  const warnings: string[] = [];
  const devices = new Set<string>();
  for (const [topic, payload] of retained) {
    const pid = topics.pidOf(topic);
    if (pid !== null) {
      try {
        entries.push({ pid, ver: readHeader(payload).ver });
      } catch {
        warnings.push(`${topic} holds something that is not a site entry`);
      }
      continue;
    }
    for (const leaf of ['availability', 'state', 'fleet']) {
      const device = topics.deviceOf(topic, leaf);
      if (device) devices.add(device);
    }
  }
  const site = { entries: entries.length, version: Math.max(0, ...entries.map((e) => e.ver)), digest: siteDigest(entries) };
  const doors = [...devices].sort().map((deviceId): DoorStatus => {
    const availability = retained.get(`${topics.base}/${deviceId}/availability`)?.toString();
    const state = json<StatusEvent>(retained.get(`${topics.base}/${deviceId}/state`));
    const fleet = json<FleetState>(retained.get(topics.doorFleet(deviceId)));
    let gallery: DoorStatus['gallery'] = 'unknown';
    if (fleet?.galleryDigest) {
      if (fleet.galleryDigest === site.digest) gallery = 'in-sync';
      else gallery = (fleet.galleryVersion ?? 0) > site.version ? 'ahead' : 'lags';
    }
    return {
      deviceId,
      online: availability === 'online' ? true : availability === 'offline' ? false : null,
      mode: state?.mode ?? null,
      lockedOutUntil: state?.lockedOutUntil ?? null,
      lastAttempt: state?.lastAttempt ? { ts: state.lastAttempt.ts, decision: state.lastAttempt.decision, identity: state.lastAttempt.identity } : null,
      model: fleet?.model ?? state?.model ?? null,
      galleryVersion: fleet?.galleryVersion ?? null,
      people: fleet?.people ?? null,
      refused: Array.isArray(fleet?.refused) ? fleet.refused.length : 0,
      gallery,
    };
  });
  for (const door of doors.filter((d) => d.gallery === 'ahead')) {
    warnings.push(`${door.deviceId} holds gallery version ${door.galleryVersion}, newer than the broker's ${site.version}: a retained site entry was deleted or replaced by an older one (check the broker's ACL)`);
  }
  return { site, doors, warnings };
}

export function fleetTable(status: FleetStatus): string {
  const header = ['door', 'online', 'mode', 'model', 'gallery', 'version', 'people', 'refused', 'last attempt', 'locked out until'];
  const rows = status.doors.map((d) => [
    d.deviceId,
    d.online === null ? '?' : d.online ? 'online' : 'OFFLINE',
    d.mode ?? '-',
    d.model ?? '-',
    d.gallery === 'lags' ? 'LAGS' : d.gallery === 'ahead' ? 'AHEAD' : d.gallery,
    d.galleryVersion === null ? '-' : String(d.galleryVersion),
    d.people === null ? '-' : String(d.people),
    String(d.refused),
    d.lastAttempt ? `${d.lastAttempt.ts.replace('T', ' ').replace(/\.\d+Z$/, '')} ${d.lastAttempt.decision} ${d.lastAttempt.identity ?? '-'}` : '-',
    d.lockedOutUntil ?? '-',
  ]);
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const lines = all.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
  lines.push('', `site gallery: ${status.site.entries} entries, version ${status.site.version}, digest ${status.site.digest}`);
  for (const warning of status.warnings) lines.push(`warning: ${warning}`);
  return lines.join('\n');
}
