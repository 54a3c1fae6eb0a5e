import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/** MQTT topic segments must not carry wildcards or separators. */
export const topicSafe = (name: string) => name.toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '') || 'facegate';

/** systemd's machine id, then D-Bus's copy (older images); null where neither exists (some containers). */
export function readMachineId(files = ['/etc/machine-id', '/var/lib/dbus/machine-id']): string | null {
  for (const file of files) {
    try {
      const id = readFileSync(file, 'utf8').trim();
      if (/^[0-9a-f]{32}$/i.test(id)) return id.toLowerCase();
    } catch {
      // Next candidate.
    }
  }
  return null;
}

/**
 * The default device id: the hostname plus 6 hex digits derived from the machine id, e.g.
 * `raspberrypi-3f9a0c`. Every Pi flashed from the stock image is called `raspberrypi`; with the hostname
 * alone two doors shared topics and a client id and knocked each other off the broker (8 reconnects each in
 * 30 s). The machine id is unique per installation and stable across reboots. It is hashed, never published:
 * machine-id(5) asks applications to use a keyed hash rather than the raw id on the network.
 */
export function defaultDeviceId(host: string = hostname(), machineId: string | null = readMachineId()): string {
  const base = topicSafe(host);
  if (!machineId) return base;
  const suffix = createHmac('sha256', machineId).update('facegate device id').digest('hex').slice(0, 6);
  return `${base}-${suffix}`;
}
