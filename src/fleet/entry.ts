import { validatePersonName } from '../gallery/gallery.js';
import { EntryRefused } from './envelope.js';

/**
 * The plaintext of one site gallery entry (what the envelope seals). A person entry carries embeddings only:
 * photos stay on the door or workstation they were taken on. A revocation is an entry too, with a higher
 * version, never an empty retained message: anyone on the broker can delete a retained message, only a key
 * holder can revoke.
 */
export type Doors = 'all' | string[];

export interface PersonEntry {
  kind: 'person';
  name: string;
  version: number;
  /** The embedding space (tower, crop, preprocessing) the embeddings belong to; see fleet/model.ts. */
  space: string;
  /** Human label of the model that made them, for messages. */
  model: string;
  embeddings: Float32Array[];
  /** Which doors (device ids) may let this person in. */
  doors: Doors;
  /** ISO time and who published it (a device id or "cli@<host>"). */
  at: string;
  by: string;
}

export interface RevokedEntry {
  kind: 'revoked';
  name: string;
  version: number;
  at: string;
  by: string;
}

export type SiteEntry = PersonEntry | RevokedEntry;

const MAX_EMBEDDINGS = 200;
const MAX_DIMENSIONS = 4096;

export function allowsDoor(doors: Doors, deviceId: string): boolean {
  return doors === 'all' || doors.includes(deviceId);
}

function encodeFloats(values: Float32Array): string {
  const le = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => le.writeFloatLE(v, i * 4));
  return le.toString('base64');
}

function decodeFloats(text: string, expected: number | null): Float32Array {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length === 0 || bytes.length % 4 !== 0 || bytes.length / 4 > MAX_DIMENSIONS) throw new EntryRefused('invalid', 'an embedding has a bad length');
  const values = new Float32Array(bytes.length / 4);
  for (let i = 0; i < values.length; i++) values[i] = bytes.readFloatLE(i * 4);
  if (expected !== null && values.length !== expected) throw new EntryRefused('invalid', 'embeddings of different lengths');
  if (!values.every(Number.isFinite)) throw new EntryRefused('invalid', 'an embedding holds NaN or infinity');
  return values;
}

export function encodeEntry(entry: SiteEntry): Buffer {
  const body = entry.kind === 'person' ? { ...entry, embeddings: entry.embeddings.map(encodeFloats) } : entry;
  return Buffer.from(JSON.stringify(body));
}

/** Checks everything a door relies on; a key holder's mistake must not crash or confuse a door either. */
export function decodeEntry(plaintext: Buffer): SiteEntry {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(plaintext.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new EntryRefused('invalid', 'sealed content is not JSON');
  }
  const str = (key: string) => {
    if (typeof raw[key] !== 'string' || raw[key] === '') throw new EntryRefused('invalid', `"${key}" missing`);
    return raw[key] as string;
  };
  let name: string;
  try {
    name = validatePersonName(str('name'));
  } catch (error) {
    throw new EntryRefused('invalid', (error as Error).message);
  }
  const version = raw.version;
  if (!Number.isSafeInteger(version) || (version as number) <= 0) throw new EntryRefused('invalid', '"version" must be a positive integer');
  const common = { name, version: version as number, at: str('at'), by: str('by') };
  if (raw.kind === 'revoked') return { kind: 'revoked', ...common };
  if (raw.kind !== 'person') throw new EntryRefused('invalid', `unknown entry kind ${JSON.stringify(raw.kind)}`);
  const list = raw.embeddings;
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_EMBEDDINGS || !list.every((e) => typeof e === 'string')) {
    throw new EntryRefused('invalid', `"embeddings" must be 1-${MAX_EMBEDDINGS} base64 strings`);
  }
  const first = decodeFloats(list[0] as string, null);
  const embeddings = [first, ...(list.slice(1) as string[]).map((e) => decodeFloats(e, first.length))];
  const doors = raw.doors;
  if (doors !== 'all' && !(Array.isArray(doors) && doors.every((d) => typeof d === 'string' && d !== ''))) {
    throw new EntryRefused('invalid', '"doors" must be "all" or a list of device ids');
  }
  return { kind: 'person', ...common, space: str('space'), model: str('model'), embeddings, doors: doors as Doors };
}
