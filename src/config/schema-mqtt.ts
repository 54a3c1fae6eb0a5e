import { choice } from './formats.js';

/**
 * The mqtt.* settings: the broker connection, the command checks and Home Assistant. Formats (topic-base,
 * mqtt-url, strict-boolean, timer-ms, ...) are registered by formats.ts; schema.ts includes this slice.
 */
export const mqttSchema = {
  enabled: { doc: 'Publish attempts and take commands over MQTT.', format: 'strict-boolean', default: true, env: 'FACEGATE_MQTT_ENABLED' },
  url: { doc: 'Broker URL.', format: 'mqtt-url', default: 'mqtt://localhost:1883', env: 'FACEGATE_MQTT_URL', arg: 'mqtt-url' },
  embedded: {
    doc: 'Embedded aedes broker: "auto" starts one on the URL\'s port when nothing answers there (localhost only); "always"; "never".',
    ...choice(['auto', 'always', 'never'], 'auto'),
    env: 'FACEGATE_MQTT_EMBEDDED',
  },
  baseTopic: { doc: 'Topic prefix; topics are <baseTopic>/<deviceId>/...', format: 'topic-base', default: 'facegate', env: 'FACEGATE_MQTT_BASE_TOPIC' },
  clientId: { doc: 'MQTT client id. Empty = facegate-<deviceId> (stable per device).', format: String, default: '', env: 'FACEGATE_MQTT_CLIENT_ID' },
  username: { doc: 'Broker user name.', format: 'optional-string', default: null as string | null, env: 'FACEGATE_MQTT_USERNAME' },
  password: { doc: 'Broker password.', format: 'optional-string', default: null as string | null, env: 'FACEGATE_MQTT_PASSWORD', sensitive: true },
  protocolVersion: {
    doc: 'MQTT protocol: 5 (default) lets facegate tell a retained command from a live one (retain-as-published) and caps the packets the broker may send; a broker that only speaks 3.1.1 is retried with 4 automatically. 4 = MQTT 3.1.1 (the embedded aedes broker, which guards retained commands itself).',
    format: [4, 5],
    default: 5 as 4 | 5,
    env: 'FACEGATE_MQTT_PROTOCOL_VERSION',
  },
  maxPacketBytes: {
    doc: 'Largest MQTT packet facegate accepts, in bytes. Bigger ones are refused before they are buffered (MQTT 5 maximumPacketSize, and a stream guard for 3.1.1). Commands need a few hundred bytes.',
    format: 'positive-int',
    default: 16384,
    env: 'FACEGATE_MQTT_MAX_PACKET_BYTES',
  },
  keepaliveS: { doc: 'Keepalive in seconds; the broker publishes the Last Will after 1.5x this without traffic.', format: 'positive-int', default: 30, env: 'FACEGATE_MQTT_KEEPALIVE_S' },
  reconnectMinMs: { doc: 'First reconnect delay; doubles with jitter up to reconnectMaxMs.', format: 'timer-ms', default: 1000, env: 'FACEGATE_MQTT_RECONNECT_MIN_MS' },
  reconnectMaxMs: { doc: 'Longest reconnect delay.', format: 'timer-ms', default: 30000, env: 'FACEGATE_MQTT_RECONNECT_MAX_MS' },
  tls: {
    ca: { doc: 'CA certificate file (PEM) for mqtts://.', format: 'optional-string', default: null as string | null, env: 'FACEGATE_MQTT_TLS_CA' },
    cert: { doc: 'Client certificate file (PEM).', format: 'optional-string', default: null as string | null, env: 'FACEGATE_MQTT_TLS_CERT' },
    key: { doc: 'Client private key file (PEM).', format: 'optional-string', default: null as string | null, env: 'FACEGATE_MQTT_TLS_KEY', sensitive: true },
    rejectUnauthorized: { doc: 'Verify the broker\'s certificate.', format: 'strict-boolean', default: true, env: 'FACEGATE_MQTT_TLS_REJECT_UNAUTHORIZED' },
  },
  commandMaxAgeMs: { doc: 'Commands whose timestamp is older than this (or this far in the future) are refused.', format: 'timer-ms', default: 30000, env: 'FACEGATE_MQTT_COMMAND_MAX_AGE_MS' },
  replayCacheSize: { doc: 'How many recent command ids are remembered (on disk) to refuse replays.', format: 'positive-int', default: 1000, env: 'FACEGATE_MQTT_REPLAY_CACHE_SIZE' },
  unlock: {
    enabled: { doc: 'Allow cmd/unlock (remote unlock). Off by default.', format: 'strict-boolean', default: false, env: 'FACEGATE_MQTT_UNLOCK_ENABLED' },
    secret: { doc: 'Shared secret for the HMAC-SHA256 that signs commands: every cmd/unlock and cmd/lockout/clear must carry one, cmd/verify and cmd/reload may. Required when unlock is enabled or signatures are required.', format: 'optional-string', default: null as string | null, env: 'FACEGATE_MQTT_UNLOCK_SECRET', sensitive: true },
  },
  requireSignatures: {
    doc: 'Refuse every unsigned command (cmd/verify and cmd/reload too, and the Home Assistant buttons, which cannot sign). For sites where nobody unauthenticated should be able to steer the door.',
    format: 'strict-boolean',
    default: false,
    env: 'FACEGATE_MQTT_REQUIRE_SIGNATURES',
  },
  unsignedPerMinute: {
    doc: 'Unsigned commands (and Home Assistant button presses) taken per minute, all senders together; more are refused as "rate limited". Signed commands have their own budget.',
    format: 'positive-int',
    default: 10,
    env: 'FACEGATE_MQTT_UNSIGNED_PER_MINUTE',
  },
  revealToUnsigned: {
    doc: 'Tell unsigned cmd/verify senders who was recognised (identity in the result) and publish the face snapshot of attempts they started. Off: the result carries the decision only.',
    format: 'strict-boolean',
    default: false,
    env: 'FACEGATE_MQTT_REVEAL_TO_UNSIGNED',
  },
  outboxMax: { doc: 'Attempt events kept on disk while the broker is unreachable; the oldest are dropped (and counted) beyond this.', format: 'positive-int', default: 1000, env: 'FACEGATE_MQTT_OUTBOX_MAX' },
  snapshots: { doc: 'Publish a JPEG of the probe face on <base>/snapshot after each attempt (retained, so a dashboard shows the last face after a restart).', format: 'strict-boolean', default: false, env: 'FACEGATE_MQTT_SNAPSHOTS' },
  homeAssistant: {
    enabled: { doc: 'Publish Home Assistant MQTT discovery configs.', format: 'strict-boolean', default: true, env: 'FACEGATE_HA_ENABLED' },
    prefix: { doc: 'Home Assistant discovery prefix.', format: 'topic-base', default: 'homeassistant', env: 'FACEGATE_HA_PREFIX' },
  },
};
