import convict from 'convict';

/**
 * The fleet section of the schema (several doors sharing one site gallery and one audit trail over the
 * broker; src/fleet/). Kept in its own file so schema.ts stays readable; schema.ts spreads it in.
 */
convict.addFormat({
  name: 'site-key',
  validate(value: unknown) {
    if (value === null) return;
    if (typeof value !== 'string' || !/^[0-9a-f]{64}$/i.test(value)) {
      throw new Error('must be 64 hex characters (a 256-bit key; "facegate fleet init" makes one) or null');
    }
  },
  coerce: (v: unknown) => (v === '' || v === 'null' ? null : v),
});

export const fleetSchema = {
  enabled: {
    doc: 'Join the site: take the site gallery from <mqtt.baseTopic>/_site/gallery/# and publish this door\'s gallery state. Needs the site key.',
    format: Boolean,
    default: false,
    env: 'FACEGATE_FLEET_ENABLED',
  },
  key: {
    doc: 'The site key (64 hex characters) that encrypts and authenticates site gallery entries. null = read fleet.keyFile.',
    format: 'site-key',
    default: null as string | null,
    env: 'FACEGATE_FLEET_KEY',
    sensitive: true,
  },
  keyFile: {
    doc: 'File holding the site key (mode 0600, refused when group or others can read it). Empty = <paths.state>/fleet/site.key.',
    format: String,
    default: '',
    env: 'FACEGATE_FLEET_KEY_FILE',
  },
  collectorDir: {
    doc: 'Where "facegate fleet collect" keeps the site audit trail (append-only JSON Lines, one file per UTC day of the attempts). Empty = <paths.state>/fleet/audit.',
    format: String,
    default: '',
    env: 'FACEGATE_FLEET_COLLECTOR_DIR',
  },
};
