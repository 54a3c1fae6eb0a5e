import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A stand-in `systemd-notify` on PATH that records each call (socket, then arguments) as one line,
 * so tests see exactly what systemd would have been told.
 */
export function fakeSystemdNotify(exitCode = 0) {
  const dir = mkdtempSync(join(tmpdir(), 'facegate-notify-'));
  const record = join(dir, 'calls.txt');
  const script = join(dir, 'systemd-notify');
  writeFileSync(script, `#!/bin/sh\nprintf '%s|%s\\n' "$NOTIFY_SOCKET" "$*" >> '${record}'\nexit ${exitCode}\n`);
  chmodSync(script, 0o755);
  return {
    dir,
    env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
      return { ...process.env, PATH: `${dir}:${process.env.PATH ?? ''}`, NOTIFY_SOCKET: '/run/fake/notify', ...extra };
    },
    calls(): string[] {
      return existsSync(record) ? readFileSync(record, 'utf8').trim().split('\n').filter(Boolean) : [];
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
