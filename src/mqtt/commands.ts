import { createHmac, timingSafeEqual } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import { SIGNED_ONLY, isCommandName, type CommandName } from '../core/commands.js';
import { RateLimiter } from './rate-limit.js';
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
 * The exact message a command's HMAC covers: `<command>.<deviceId>.<id>.<ts>` (for an unlock
 * `unlock.<deviceId>.<id>.<ts>`). Chosen over "the JSON without hmac" because JSON has no canonical form (key
 * order, spacing, number formatting); here id has no dots and ts is decimal digits, so the string parses back
 * unambiguously; the device id stops a signed unlock for one door from opening another door that shares the
 * secret, and the command name stops a signed verify from being replayed as an unlock.
 */
export function commandMessage(name: CommandName, deviceId: string, id: string, ts: number): string {
  return `${name}.${deviceId}.${id}.${ts}`;
}

export function signCommand(secret: string, name: CommandName, deviceId: string, id: string, ts: number): string {
  return createHmac('sha256', secret).update(commandMessage(name, deviceId, id, ts), 'utf8').digest('hex');
}

export const unlockMessage = (deviceId: string, id: string, ts: number) => commandMessage('unlock', deviceId, id, ts);
export const signUnlock = (secret: string, deviceId: string, id: string, ts: number) => signCommand(secret, 'unlock', deviceId, id, ts);

export type CommandVerdict =
  | { ok: true; name: CommandName; id: string; ts: number; authenticated: boolean }
  | { ok: false; name: string; id: string | null; reason: string };

export interface GateOptions {
  deviceId: string;
  maxAgeMs: number;
  unlockEnabled: boolean;
  /** mqtt.unlock.secret: the key of every command signature. */
  secret: string | null;
  /** mqtt.requireSignatures: refuse unsigned commands of every kind. */
  requireSignatures?: boolean;
  /** Budget of unsigned commands per minute, all senders together. */
  unsignedPerMinute?: number;
  /** Ids of accepted signed commands; only holders of the secret can fill it. */
  replay: ReplayCache;
  /** Ids of accepted unsigned commands: a flood of these can no longer crowd out a signed unlock. */
  unsignedReplay?: ReplayCache;
  now: () => number;
}

const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Decides whether a command message may run. Pure apart from recording accepted ids and spending rate budget. */
export class CommandGate {
  private readonly validators = loadSchemas();
  private readonly unsignedBudget: RateLimiter;

  constructor(private readonly options: GateOptions) {
    this.unsignedBudget = new RateLimiter(options.unsignedPerMinute ?? 10, options.now);
  }

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
    if (!isCommandName(name)) return refuse(`unknown command: "${name.slice(0, 40)}"`);
    if (name === 'unlock' && (!this.options.unlockEnabled || !this.options.secret)) {
      return refuse('disabled: remote unlock is off (mqtt.unlock.enabled)');
    }
    if (name === 'lockout-clear' && !this.options.secret) return refuse('disabled: clearing a lockout needs mqtt.unlock.secret');
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
    const authenticated = command.hmac !== undefined;
    if (authenticated && !this.signatureMatches(name, command.id, command.ts, command.hmac!)) {
      return refuse(this.options.secret ? 'bad signature: hmac does not match' : 'bad signature: this door has no mqtt.unlock.secret to check it', command.id);
    }
    if (!authenticated) {
      const refusal = this.unsignedRefusal(name);
      if (refusal) return refuse(refusal, command.id);
    }
    const cache = authenticated ? this.options.replay : (this.options.unsignedReplay ?? this.options.replay);
    const remembered = cache.remember(command.id, command.ts, now);
    if (remembered === 'seen') return refuse('replayed: this command id was already used', command.id);
    if (remembered === 'full') return refuse('busy: too many commands within mqtt.commandMaxAgeMs; try again shortly', command.id);
    return { ok: true, name, id: command.id, ts: command.ts, authenticated };
  }

  /**
   * Why an unsigned command (or a Home Assistant button press, which cannot sign) may not run, or null.
   * Spends one token of the unsigned budget when it may.
   */
  unsignedRefusal(name: CommandName): string | null {
    if (SIGNED_ONLY.has(name) || this.options.requireSignatures) {
      return `unsigned: ${name} needs an hmac${SIGNED_ONLY.has(name) ? '' : ' (mqtt.requireSignatures)'}`;
    }
    if (!this.unsignedBudget.take()) return `rate limited: at most ${this.options.unsignedPerMinute ?? 10} unsigned commands per minute`;
    return null;
  }

  private signatureMatches(name: CommandName, id: string, ts: number, hmac: string): boolean {
    if (!this.options.secret) return false;
    const expected = Buffer.from(signCommand(this.options.secret, name, this.options.deviceId, id, ts), 'hex');
    const given = Buffer.from(hmac, 'hex');
    // The schema guarantees 64 hex digits, so lengths match; check anyway, timingSafeEqual throws otherwise.
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}
