import { createHmac, timingSafeEqual } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import { COMMAND_NAMES, type CommandName } from './topics.js';
import type { ReplayCache } from './replay-cache.js';

/** docs/mqtt/: the published JSON Schemas are the validators, so the docs cannot drift from the code. */
export const schemaDir = fileURLToPath(new URL('../../docs/mqtt/', import.meta.url));

/** Bigger payloads are refused before JSON.parse: no command needs more than a few hundred bytes. */
export const MAX_COMMAND_BYTES = 4096;

/** Loads every docs/mqtt/*.schema.json into one ajv; keys are file names without ".schema.json". */
export function loadSchemas(): Map<string, ValidateFunction> {
  const ajv = new Ajv({ allErrors: false, strict: true, strictRequired: false, strictTypes: false, allowUnionTypes: true });
  const names: string[] = [];
  for (const file of readdirSync(schemaDir).filter((f) => f.endsWith('.schema.json')).sort()) {
    ajv.addSchema(JSON.parse(readFileSync(`${schemaDir}/${file}`, 'utf8')) as object);
    names.push(file.replace(/\.schema\.json$/, ''));
  }
  const validators = new Map<string, ValidateFunction>();
  for (const name of names) validators.set(name, ajv.getSchema(`facegate:mqtt/${name}`)!);
  return validators;
}

/**
 * The exact message an unlock's HMAC covers: `unlock.<deviceId>.<id>.<ts>`. Chosen over "the JSON without
 * hmac" because JSON has no canonical form (key order, spacing, number formatting); here id has no dots and
 * ts is decimal digits, so the string parses back unambiguously, and the device id stops a signed unlock
 * for one door from opening another door that shares the secret.
 */
export function unlockMessage(deviceId: string, id: string, ts: number): string {
  return `unlock.${deviceId}.${id}.${ts}`;
}

export function signUnlock(secret: string, deviceId: string, id: string, ts: number): string {
  return createHmac('sha256', secret).update(unlockMessage(deviceId, id, ts), 'utf8').digest('hex');
}

export type CommandVerdict =
  | { ok: true; name: CommandName; id: string; ts: number }
  | { ok: false; name: string; id: string | null; reason: string };

export interface GateOptions {
  deviceId: string;
  maxAgeMs: number;
  unlockEnabled: boolean;
  unlockSecret: string | null;
  replay: ReplayCache;
  now: () => number;
}

const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Decides whether a command message may run. Pure apart from recording accepted ids in the replay cache. */
export class CommandGate {
  private readonly validators = loadSchemas();

  constructor(private readonly options: GateOptions) {}

  check(name: string, payload: Buffer, retained: boolean): CommandVerdict {
    let body: unknown;
    let parseError = false;
    if (payload.length <= MAX_COMMAND_BYTES) {
      try {
        body = JSON.parse(payload.toString('utf8'));
      } catch {
        parseError = true;
      }
    }
    const rawId = (body as { id?: unknown } | null | undefined)?.id;
    // Echo the id only when it is a well-formed id, so a result never carries attacker-sized junk.
    const echoId = typeof rawId === 'string' && ID_PATTERN.test(rawId) ? rawId : null;
    const refuse = (reason: string, id: string | null = echoId): CommandVerdict => ({ ok: false, name, id, reason });
    if (retained) return refuse('retained: commands must be published with retain=false');
    if (!(COMMAND_NAMES as readonly string[]).includes(name)) return refuse(`unknown command: "${name.slice(0, 40)}"`);
    if (name === 'unlock' && (!this.options.unlockEnabled || !this.options.unlockSecret)) {
      return refuse('disabled: remote unlock is off (mqtt.unlock.enabled)');
    }
    if (payload.length > MAX_COMMAND_BYTES) return refuse(`too large: ${payload.length} bytes (max ${MAX_COMMAND_BYTES})`);
    if (parseError) return refuse('payload is not JSON');
    const validate = this.validators.get(`cmd-${name}`)!;
    if (!validate(body)) {
      const first = validate.errors?.[0];
      return refuse(`invalid payload: ${first ? `${first.instancePath || '(root)'} ${first.message ?? ''}`.trim() : 'schema mismatch'}`);
    }
    const command = body as { id: string; ts: number; hmac?: string };
    const now = this.options.now();
    const age = now - command.ts;
    if (age > this.options.maxAgeMs) return refuse(`stale: sent ${age} ms ago (max ${this.options.maxAgeMs})`, command.id);
    if (-age > this.options.maxAgeMs) return refuse(`future: ts is ${-age} ms ahead (max ${this.options.maxAgeMs}); check the sender's clock`, command.id);
    if (name === 'unlock') {
      if (!this.signatureMatches(command.id, command.ts, command.hmac!)) return refuse('bad signature: hmac does not match', command.id);
    }
    const remembered = this.options.replay.remember(command.id, command.ts, now);
    if (remembered === 'seen') return refuse('replayed: this command id was already used', command.id);
    if (remembered === 'full') return refuse('busy: too many commands within mqtt.commandMaxAgeMs; try again shortly', command.id);
    return { ok: true, name: name as CommandName, id: command.id, ts: command.ts };
  }

  private signatureMatches(id: string, ts: number, hmac: string): boolean {
    const expected = Buffer.from(signUnlock(this.options.unlockSecret!, this.options.deviceId, id, ts), 'hex');
    const given = Buffer.from(hmac, 'hex');
    // The schema guarantees 64 hex digits, so lengths match; check anyway, timingSafeEqual throws otherwise.
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}
