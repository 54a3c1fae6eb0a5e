import { connect } from 'node:net';
import type { Settings } from '../config/index.js';
import { fail, pass, skip, type CheckResult } from './types.js';

const DEFAULT_PORTS: Record<string, number> = { 'mqtt:': 1883, 'tcp:': 1883, 'mqtts:': 8883, 'ssl:': 8883, 'ws:': 80, 'wss:': 443 };
const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/** A TCP connection to mqtt.url's host and port opens within the timeout. */
export async function brokerCheck(mqtt: Settings['mqtt'], timeoutMs = 2000): Promise<CheckResult> {
  const name = 'broker';
  if (!mqtt.enabled) return skip(name, 'mqtt.enabled is false');
  const url = new URL(mqtt.url);
  const host = url.hostname;
  const port = Number(url.port) || DEFAULT_PORTS[url.protocol] || 1883;
  const error = await tryConnect(host.replace(/^\[|\]$/g, ''), port, timeoutMs);
  if (!error) return pass(name, `${host}:${port} accepts connections`, { host, port });
  if (mqtt.embedded !== 'never' && LOCAL_HOSTS.has(host)) {
    return pass(name, `nothing listens on ${host}:${port} (${error}); the daemon starts its embedded broker there (mqtt.embedded "${mqtt.embedded}")`, { host, port, embedded: true });
  }
  return fail(name, `${host}:${port}: ${error}`, 'start the broker (e.g. mosquitto), open the firewall, or fix mqtt.url', { host, port });
}

function tryConnect(host: string, port: number, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (result: string | null) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done(`no answer within ${timeoutMs} ms`), timeoutMs);
    socket.once('connect', () => done(null));
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
  });
}
