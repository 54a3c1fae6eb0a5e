import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { FacegateError } from '../core/errors.js';
import type { SiteKey } from './key.js';

/**
 * What travels over the broker for one person: an AES-256-GCM sealed entry in a small JSON envelope.
 *
 *   { "fleet": 1, "kid": <key id>, "pid": <person id>, "ver": <version>, "iv", "ct", "tag" (base64) }
 *
 * The person id and version are in the clear (so `fleet status` can compare versions without the key) but
 * authenticated: they are the GCM additional data, so moving an entry to another person's topic, or
 * relabelling an old version as new, fails the tag like any flipped bit of the ciphertext. With one
 * symmetric site key the GCM tag is the signature: only a holder of the key can make an entry a door takes.
 */
export const ENVELOPE_VERSION = 1;
/** A gallery entry of 200 embeddings of 128 floats is ~140 KB of base64; nothing legitimate is near this. */
export const MAX_ENVELOPE_BYTES = 2 * 1024 * 1024;

export type RefusalCode = 'malformed' | 'other-key' | 'tampered' | 'wrong-topic' | 'replayed' | 'conflict' | 'other-model' | 'invalid';

/** An entry a door will not take: bad input data, with a stable `refusal` for programs and a sentence for people. */
export class EntryRefused extends FacegateError {
  override name = 'EntryRefused';
  constructor(readonly refusal: RefusalCode, message: string) {
    super('data', `${refusal}: ${message}`);
  }
}

export interface EnvelopeHeader {
  kid: string;
  pid: string;
  ver: number;
}

/** A person's topic id: HMAC of the name under the site key, so the broker never sees names. */
export function personId(key: SiteKey, name: string): string {
  return createHmac('sha256', key.nameKey).update(`person:${name}`).digest('hex').slice(0, 32);
}

const additionalData = (h: EnvelopeHeader) => Buffer.from(`facegate-fleet/${ENVELOPE_VERSION}|${h.kid}|${h.pid}|${h.ver}`);

export function seal(key: SiteKey, pid: string, ver: number, plaintext: Buffer): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key.sealKey, iv);
  cipher.setAAD(additionalData({ kid: key.id, pid, ver }));
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return JSON.stringify({ fleet: ENVELOPE_VERSION, kid: key.id, pid, ver, iv: iv.toString('base64'), ct: ct.toString('base64'), tag: cipher.getAuthTag().toString('base64') });
}

/** The clear part of an envelope, checked for shape only (no key needed, nothing authenticated yet). */
export function readHeader(payload: Buffer): EnvelopeHeader & { iv: string; ct: string; tag: string } {
  if (payload.length > MAX_ENVELOPE_BYTES) throw new EntryRefused('malformed', `${payload.length} bytes is more than ${MAX_ENVELOPE_BYTES}`);
  let raw: unknown;
  try {
    raw = JSON.parse(payload.toString('utf8'));
  } catch {
    throw new EntryRefused('malformed', 'payload is not JSON (not a facegate site entry)');
  }
  const e = raw as Record<string, unknown>;
  const b64 = (v: unknown) => typeof v === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(v);
  if (typeof e !== 'object' || e === null || e.fleet !== ENVELOPE_VERSION || typeof e.kid !== 'string' || typeof e.pid !== 'string' ||
    !/^[0-9a-f]{32}$/.test(e.pid) || !Number.isSafeInteger(e.ver) || (e.ver as number) <= 0 || !b64(e.iv) || !b64(e.ct) || !b64(e.tag)) {
    throw new EntryRefused('malformed', `not a version-${ENVELOPE_VERSION} site entry envelope`);
  }
  return { kid: e.kid, pid: e.pid, ver: e.ver as number, iv: e.iv as string, ct: e.ct as string, tag: e.tag as string };
}

/** Authenticates and decrypts; any change to header or ciphertext, or another key, is refused. */
export function open(key: SiteKey, payload: Buffer, expectedPid: string): { header: EnvelopeHeader; plaintext: Buffer } {
  const h = readHeader(payload);
  if (h.pid !== expectedPid) throw new EntryRefused('wrong-topic', `entry for person ${h.pid} arrived on the topic of ${expectedPid}`);
  if (h.kid !== key.id) throw new EntryRefused('other-key', `sealed with site key ${h.kid}, this door has ${key.id}`);
  const iv = Buffer.from(h.iv, 'base64');
  const tag = Buffer.from(h.tag, 'base64');
  if (iv.length !== 12 || tag.length !== 16) throw new EntryRefused('malformed', 'bad nonce or tag length');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.sealKey, iv);
    decipher.setAAD(additionalData(h));
    decipher.setAuthTag(tag);
    const plaintext = Buffer.concat([decipher.update(Buffer.from(h.ct, 'base64')), decipher.final()]);
    return { header: { kid: h.kid, pid: h.pid, ver: h.ver }, plaintext };
  } catch {
    throw new EntryRefused('tampered', 'authentication failed: the entry was changed or forged');
  }
}
