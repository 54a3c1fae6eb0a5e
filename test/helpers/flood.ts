import net from 'node:net';
import { once } from 'node:events';

/** MQTT variable-length integer ("remaining length"). */
export function remainingLength(n: number): Buffer {
  const bytes: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    bytes.push(byte);
  } while (n > 0);
  return Buffer.from(bytes);
}

const str = (s: string) => {
  const b = Buffer.from(s, 'utf8');
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
};

export interface FloodResult {
  /** Payload bytes the socket accepted before it ended (the broker may cut us off after the header). */
  written: number;
  closedEarly: boolean;
}

/**
 * Publishes one `bytes`-sized message to `topic` over a raw MQTT 3.1.1 connection, streaming the payload in
 * 64 KiB pieces with backpressure, so the sender itself never holds more than a piece: what a test measures
 * is the receiver's memory, not ours.
 */
export async function floodPublish(
  url: string, topic: string, bytes: number,
  options: { qos?: 0 | 1; retain?: boolean; username?: string; password?: string } = {},
): Promise<FloodResult> {
  const { hostname, port } = new URL(url);
  const socket = net.connect({ host: hostname, port: Number(port) || 1883 });
  await once(socket, 'connect');
  let closed = false;
  socket.on('error', () => undefined);
  const gone = new Promise<void>((resolve) => socket.once('close', () => {
    closed = true;
    resolve();
  }));
  const clientId = `flood-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const login = options.username !== undefined && options.password !== undefined;
  const connectBody = Buffer.concat([str('MQTT'), Buffer.from([4, login ? 0xc2 : 0x02, 0, 60]), str(clientId),
    ...(login ? [str(options.username!), str(options.password!)] : [])]);
  socket.write(Buffer.concat([Buffer.from([0x10]), remainingLength(connectBody.length), connectBody]));
  // CONNACK is 4 bytes, which may arrive in more than one piece.
  let connack = Buffer.alloc(0);
  while (connack.length < 4) connack = Buffer.concat([connack, ((await once(socket, 'data')) as [Buffer])[0]]);
  if (connack[0] !== 0x20 || connack[3] !== 0) throw new Error(`flood: CONNACK refused (${connack.toString('hex')})`);
  const qos = options.qos ?? 1;
  const head = Buffer.concat([str(topic), qos > 0 ? Buffer.from([0, 1]) : Buffer.alloc(0)]);
  const first = 0x30 | (qos << 1) | (options.retain ? 1 : 0);
  socket.write(Buffer.concat([Buffer.from([first]), remainingLength(head.length + bytes), head]));
  const piece = Buffer.alloc(64 * 1024, 0x41);
  let written = 0;
  while (written < bytes && !closed) {
    const size = Math.min(piece.length, bytes - written);
    written += size;
    if (!socket.write(size === piece.length ? piece : piece.subarray(0, size))) {
      // A broker that cuts us off (ECONNRESET, then close) simply ends the flood.
      await Promise.race([new Promise((resolve) => socket.once('drain', resolve)), gone]);
    }
  }
  const closedEarly = closed;
  socket.end();
  socket.destroy();
  return { written, closedEarly };
}

export const rssMb = () => process.memoryUsage().rss / 1024 / 1024;

/**
 * How far RSS rose above its starting level while `work` ran (sampled every 10 ms) or right after, in MB. No
 * collection is forced: this is the issue's own yardstick ("RSS within 50 MB of before"), and what a parser
 * holding a 50 MB message costs (before the guard: +100 MB, still there afterwards).
 */
export async function peakRssGrowthMb(work: () => Promise<unknown>): Promise<number> {
  const before = rssMb();
  let peak = before;
  const timer = setInterval(() => (peak = Math.max(peak, rssMb())), 10);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return Math.max(peak, rssMb()) - before;
}
