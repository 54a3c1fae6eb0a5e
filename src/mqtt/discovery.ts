import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Settings } from '../config/index.js';
import { DECISIONS } from '../core/types.js';
import type { Topics } from './topics.js';

/**
 * Home Assistant MQTT discovery: one retained config per entity under
 * `<prefix>/<component>/<node_id>/<object_id>/config`. Entities that the current settings turn off are
 * published with an empty retained payload, which tells Home Assistant to remove them (e.g. the lock after
 * remote unlock is disabled again).
 */
export interface DiscoveryMessage {
  topic: string;
  /** JSON config, or '' to remove the entity. */
  payload: string;
}

/**
 * HA node and object ids allow [a-zA-Z0-9_-] only. A device id that needs replacing gets a short hash of
 * itself appended, so two doors of a site whose ids differ only there ("front.door", "front_door") never
 * become one Home Assistant device; ids that need nothing (every default: hostnames) are kept as they are.
 */
export function haNodeId(deviceId: string): string {
  const safe = deviceId.replace(/[^a-zA-Z0-9_-]/g, '_');
  return safe === deviceId ? safe : `${safe}_${createHash('sha256').update(deviceId).digest('hex').slice(0, 6)}`;
}

let version: string | null = null;
/** facegate's version, from its package.json (same relative place in src/ and dist/). */
export function facegateVersion(): string {
  version ??= (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return version;
}

export type DiscoverySettings = Pick<Settings, 'deviceId' | 'deviceName' | 'mqtt'>;

export function discoveryMessages(settings: DiscoverySettings, topics: Topics): DiscoveryMessage[] {
  const prefix = settings.mqtt.homeAssistant.prefix;
  const node = haNodeId(settings.deviceId);
  const device = {
    identifiers: [`facegate_${node}`],
    name: `facegate ${settings.deviceName}`,
    manufacturer: 'facegate',
    model: 'Siamese face-verification door',
    sw_version: facegateVersion(),
  };
  // Home Assistant shows where an entity came from (and logs it); recommended for every discovery payload.
  const origin = { name: 'facegate', sw_version: facegateVersion() };
  const availability = [{ topic: topics.availability, payload_available: 'online', payload_not_available: 'offline' }];
  const unlockEnabled = settings.mqtt.unlock.enabled;
  // Buttons send a fixed, unsigned payload: with every command required to be signed they could only fail.
  const unsignedAllowed = !settings.mqtt.requireSignatures;
  const entity = (component: string, objectId: string, enabled: boolean, config: Record<string, unknown>): DiscoveryMessage => ({
    topic: `${prefix}/${component}/${node}/${objectId}/config`,
    payload: enabled
      ? JSON.stringify({
          ...config,
          unique_id: `facegate_${node}_${objectId}`,
          // `object_id` stopped working in Home Assistant Core 2026.4; `default_entity_id` replaced it and must
          // be a valid entity id (component, dot, lowercase letters, digits and underscores).
          default_entity_id: `${component}.${`facegate_${node}_${objectId}`.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`,
          device,
          origin,
          availability,
          availability_mode: 'all',
        })
      : '',
  });
  return [
    entity('event', 'attempt', true, {
      name: 'Attempt',
      state_topic: topics.attempt,
      event_types: [...DECISIONS],
      // HA's event entity wants {"event_type": ...}; the attempt's other fields become event attributes.
      value_template:
        "{{ {'event_type': value_json.decision, 'attempt_id': value_json.id, 'identity': value_json.identity, 'mean_score': value_json.meanScore, 'trigger': value_json.trigger} | tojson }}",
      icon: 'mdi:face-recognition',
      qos: 1,
    }),
    // With remote unlock on, a lock shows the relay. HA can only send a fixed payload, which cannot carry the
    // HMAC, so it goes to cmd/unlock/request, which facegate never obeys: a signer you run (docs/mqtt.md)
    // turns it into a signed cmd/unlock. Without remote unlock the relay is a read-only binary sensor.
    entity('lock', 'door', unlockEnabled, {
      name: 'Door',
      state_topic: topics.state,
      value_template: "{{ 'UNLOCKED' if value_json.relay else 'LOCKED' }}",
      command_topic: topics.unlockRequest,
      payload_unlock: 'UNLOCK',
      payload_lock: 'LOCK',
      optimistic: false,
      qos: 1,
    }),
    // Always there (the README's dashboard card shows it), remote unlock or not.
    entity('binary_sensor', 'relay', true, {
      name: 'Door relay',
      state_topic: topics.state,
      value_template: "{{ 'ON' if value_json.relay else 'OFF' }}",
      device_class: 'lock',
      qos: 1,
    }),
    entity('sensor', 'last_identity', true, {
      name: 'Last identity',
      state_topic: topics.state,
      value_template: "{{ (value_json.lastAttempt.identity if value_json.lastAttempt else none) or 'none' }}",
      icon: 'mdi:account-question',
      qos: 1,
    }),
    // From the retained state (not the attempt stream), so it is there again after Home Assistant restarts.
    entity('sensor', 'last_score', true, {
      name: 'Last score',
      state_topic: topics.state,
      value_template: "{{ (value_json.lastAttempt.meanScore | round(3)) if value_json.lastAttempt else none }}",
      state_class: 'measurement',
      icon: 'mdi:gauge',
      qos: 1,
    }),
    entity('sensor', 'attempts_today', true, {
      name: 'Attempts today',
      state_topic: topics.state,
      value_template: '{{ value_json.attemptsToday }}',
      state_class: 'total_increasing',
      icon: 'mdi:counter',
      qos: 1,
    }),
    entity('sensor', 'enrolled', true, {
      name: 'Enrolled people',
      state_topic: topics.state,
      value_template: '{{ value_json.gallery.identities }}',
      json_attributes_topic: topics.state,
      json_attributes_template: "{{ {'images': value_json.gallery.images, 'model': value_json.model} | tojson }}",
      icon: 'mdi:account-group',
      qos: 1,
    }),
    entity('sensor', 'locked_out_until', true, {
      name: 'Locked out until',
      state_topic: topics.state,
      value_template: '{{ value_json.lockedOutUntil or none }}',
      device_class: 'timestamp',
      icon: 'mdi:lock-clock',
      qos: 1,
    }),
    entity('sensor', 'mode', true, {
      name: 'Mode',
      state_topic: topics.state,
      value_template: '{{ value_json.mode }}',
      device_class: 'enum',
      options: ['idle', 'busy', 'cooldown', 'locked_out'],
      qos: 1,
    }),
    entity('button', 'verify', unsignedAllowed, {
      name: 'Verify',
      command_topic: topics.verifyPress,
      payload_press: 'PRESS',
      icon: 'mdi:face-recognition',
      qos: 1,
    }),
    entity('button', 'reload', unsignedAllowed, {
      name: 'Reload gallery',
      command_topic: topics.reloadPress,
      payload_press: 'PRESS',
      icon: 'mdi:account-sync',
      entity_category: 'config',
      qos: 1,
    }),
    // Like the lock: a request that only a signer you run (docs/mqtt.md) turns into a signed cmd/lockout/clear.
    entity('button', 'lockout_clear', unlockEnabled, {
      name: 'Clear lockout',
      command_topic: topics.lockoutClearRequest,
      payload_press: 'CLEAR',
      icon: 'mdi:lock-reset',
      entity_category: 'config',
      qos: 1,
    }),
    entity('image', 'snapshot', settings.mqtt.snapshots, {
      name: 'Last face',
      image_topic: topics.snapshot,
      content_type: 'image/jpeg',
      qos: 0,
    }),
  ];
}
