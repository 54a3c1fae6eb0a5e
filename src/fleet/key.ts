import { createHash, hkdfSync, randomBytes } from 'node:crypto';
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, statSync, writeSync, fsyncSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Settings } from '../config/index.js';
import { FacegateError, type ErrorCode } from '../core/errors.js';

/**
 * The site key: 256 random bits shared by every door of a site and by the workstation that enrols. It never
 * travels over MQTT. Two keys are derived from it (HKDF-SHA256), one per purpose, so the key that encrypts
 * entries is never also the one that names topics.
 */
export class SiteKeyError extends FacegateError {
  override name = 'SiteKeyError';
  constructor(message: string, code: ErrorCode = 'config') {
    super(code, message);
  }
}

export interface SiteKey {
  /** AES-256-GCM key for the gallery entries. */
  readonly sealKey: Buffer;
  /** HMAC key that turns a person's name into the opaque id in their topic. */
  readonly nameKey: Buffer;
  /** Public, short: which key sealed an entry, so a door with another key says so instead of "tampered". */
  readonly id: string;
}

export function siteKeyFromBytes(secret: Buffer): SiteKey {
  if (secret.length !== 32) throw new SiteKeyError(`a site key is 32 bytes (64 hex characters), got ${secret.length} bytes`);
  const derive = (info: string) => Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), info, 32));
  return {
    sealKey: derive('facegate fleet seal v1'),
    nameKey: derive('facegate fleet person-id v1'),
    id: createHash('sha256').update('facegate fleet key-id v1').update(secret).digest('hex').slice(0, 16),
  };
}

export function siteKeyPath(settings: Pick<Settings, 'fleet' | 'paths'>): string {
  return settings.fleet.keyFile || join(settings.paths.state, 'fleet', 'site.key');
}

/** Where the key comes from: the sensitive config value when set, else the key file. */
export function loadSiteKey(settings: Pick<Settings, 'fleet' | 'paths'>): SiteKey {
  if (settings.fleet.key) return siteKeyFromBytes(Buffer.from(settings.fleet.key, 'hex'));
  const file = siteKeyPath(settings);
  let text: string;
  try {
    const mode = statSync(file).mode;
    // Like ssh with a private key: a key others can read is not a secret any more, so refuse to use it.
    if ((mode & 0o077) !== 0) {
      throw new SiteKeyError(`${file} can be read by group or others (mode ${(mode & 0o777).toString(8)}): chmod 600 ${file}`);
    }
    text = readFileSync(file, 'utf8').trim();
  } catch (error) {
    if (error instanceof SiteKeyError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new SiteKeyError(`no site key at ${file}: run "facegate fleet init" once for the site, then copy that file (mode 0600) to every door, or set fleet.key`);
    }
    throw new SiteKeyError(`cannot read the site key ${file}: ${(error as Error).message}`);
  }
  if (!/^[0-9a-f]{64}$/i.test(text)) throw new SiteKeyError(`${file} does not hold a site key (64 hex characters)`);
  return siteKeyFromBytes(Buffer.from(text, 'hex'));
}

/** Writes a fresh key, mode 0600 from the first byte on; refuses to replace an existing one. */
export function createSiteKeyFile(file: string): SiteKey {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const secret = randomBytes(32);
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new SiteKeyError(`${file} exists already; a new key would lock every door out of the site gallery (delete it first if that is what you want)`, 'failed');
    }
    throw error;
  }
  try {
    if ((fstatSync(fd).mode & 0o077) !== 0) throw new SiteKeyError(`${file} was created readable by others (umask?)`, 'io');
    writeSync(fd, `${secret.toString('hex')}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return siteKeyFromBytes(secret);
}
