import { schema } from './schema.js';

export interface SettingDoc {
  key: string;
  env: string | undefined;
  arg: string | undefined;
  default: unknown;
  doc: string;
  sensitive: boolean;
}

/** Defaults that differ per machine, shown as what they are made of (so the README table is the same everywhere). */
const DOC_DEFAULTS: Record<string, string> = {
  deviceId: '(hostname-<6 hex from /etc/machine-id>)',
  deviceName: '(hostname)',
};

/** Flattens the schema for documentation (README table, `facegate config docs`). */
export function describeSettings(): SettingDoc[] {
  const out: SettingDoc[] = [];
  const walk = (node: Record<string, unknown>, prefix: string) => {
    for (const [name, value] of Object.entries(node)) {
      const key = prefix ? `${prefix}.${name}` : name;
      const entry = value as Record<string, unknown>;
      if (entry && typeof entry === 'object' && 'doc' in entry && 'default' in entry) {
        out.push({
          key,
          env: entry.env as string | undefined,
          arg: entry.arg as string | undefined,
          default: DOC_DEFAULTS[key] ?? entry.default,
          doc: entry.doc as string,
          sensitive: entry.sensitive === true,
        });
      } else if (entry && typeof entry === 'object') {
        walk(entry, key);
      }
    }
  };
  walk(schema as unknown as Record<string, unknown>, '');
  return out;
}

/** The README's configuration reference, generated so it cannot drift from the schema. */
export function settingsMarkdown(): string {
  const rows = describeSettings().map((s) => {
    const flag = s.arg ? `\`--${s.arg}\`` : '';
    const def = s.sensitive ? '(secret)' : `\`${JSON.stringify(s.default)}\``;
    return `| \`${s.key}\` | ${def} | \`${s.env ?? ''}\` | ${flag} | ${s.doc.replace(/\|/g, '\\|')} |`;
  });
  return ['| key | default | env | flag | meaning |', '|---|---|---|---|---|', ...rows].join('\n');
}
