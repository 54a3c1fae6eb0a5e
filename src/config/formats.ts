import convict from 'convict';
import { LIVENESS_KEYS } from '../face/liveness/stage.js';

/** The custom value formats the schema (schema.ts) names; registered with convict once, on import. */

/**
 * A setting with a fixed set of values: the format lists them for convict, and the default carries the union
 * type, so Settings reads e.g. `'simulated' | 'onoff'` and no code needs an `as` cast after loading.
 */
export function choice<const T extends string>(values: readonly T[], fallback: NoInfer<T>): { format: T[]; default: T } {
  return { format: [...values], default: fallback };
}

/** setTimeout holds at most 2^31-1 ms (~24.8 days); a larger value silently fires after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

convict.addFormat({
  name: 'bcm-pin',
  validate(value: unknown) {
    if (value === null) return;
    if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > 53) {
      throw new Error('must be a BCM GPIO number from 0 to 53, or null when not wired');
    }
  },
  coerce: (v: unknown) => (v === 'null' || v === '' ? null : Number(v)),
});
convict.addFormat({
  name: 'fraction',
  validate(value: unknown) {
    if (value === null) return;
    if (typeof value !== 'number' || !(value >= 0 && value <= 1)) throw new Error('must be a number from 0 to 1');
  },
  coerce: (v: unknown) => (v === 'null' || v === '' ? null : Number(v)),
});
convict.addFormat({
  name: 'optional-string',
  validate(value: unknown) {
    if (value !== null && typeof value !== 'string') throw new Error('must be a string or null');
  },
  coerce: (v: unknown) => (v === '' ? null : v),
});
convict.addFormat({
  name: 'liveness-mode',
  validate(value: unknown) {
    const modes = ['auto', ...LIVENESS_KEYS] as string[];
    if (typeof value !== 'string' || !modes.includes(value)) throw new Error(`must be one of ${modes.join(', ')} (the registered liveness checks, or auto)`);
  },
});
convict.addFormat({
  name: 'positive-number',
  validate(value: unknown) {
    if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) throw new Error('must be a number greater than 0');
  },
  coerce: (v: unknown) => Number(v),
});
convict.addFormat({
  name: 'topic-segment',
  validate(value: unknown) {
    if (typeof value !== 'string' || value === '' || /[#+/\s]/.test(value)) {
      throw new Error('must be a non-empty MQTT topic segment without "#", "+", "/" or spaces');
    }
  },
});
convict.addFormat({
  name: 'topic-base',
  validate(value: unknown) {
    if (typeof value !== 'string' || value === '' || /[#+\s]/.test(value) || value.startsWith('/') || value.endsWith('/')) {
      throw new Error('must be a topic prefix such as "facegate", without wildcards, spaces or a leading/trailing "/"');
    }
  },
});
convict.addFormat({
  name: 'mqtt-url',
  validate(value: unknown) {
    if (typeof value !== 'string' || !/^(mqtts?|wss?|tcp|ssl):\/\/[^\s]+$/.test(value)) {
      throw new Error('must be a broker URL such as mqtt://localhost:1883 or mqtts://broker:8883');
    }
  },
});
convict.addFormat({
  name: 'strict-boolean',
  // convict's own Boolean reads every string except "false" as true: FACEGATE_RELAY_ACTIVE_LOW=0 would invert the relay.
  validate(value: unknown) {
    if (typeof value !== 'boolean') throw new Error(`must be true or false (got ${JSON.stringify(value)})`);
  },
  coerce: (v: unknown) => (v === 'true' ? true : v === 'false' ? false : v),
});
for (const [name, min] of [['timer-ms', 1], ['timer-ms-or-zero', 0]] as const) {
  convict.addFormat({
    name,
    validate(value: unknown) {
      if (!Number.isInteger(value) || (value as number) < min || (value as number) > MAX_TIMER_MS) {
        throw new Error(`must be a whole number of milliseconds from ${min} to ${MAX_TIMER_MS} (got ${JSON.stringify(value)})`);
      }
    },
    coerce: (v: unknown) => (typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : v),
  });
}
convict.addFormat({
  name: 'positive-int',
  validate(value: unknown) {
    if (!Number.isInteger(value) || (value as number) <= 0) throw new Error('must be a whole number greater than 0');
  },
  coerce: (v: unknown) => Number(v),
});
