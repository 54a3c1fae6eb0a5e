import net from 'node:net';
import { Duplex } from 'node:stream';

/**
 * Size before buffering. MQTT parsers (mqtt.js and aedes both use mqtt-packet) collect a whole packet before
 * handing it on, so a 250 MB PUBLISH to a command topic grew the daemon from 288 to 842 MB, never released,
 * and stalled command handling for seconds. This guard reads only the fixed header (type and "remaining
 * length", at most 5 bytes) and decides there, before a byte of the payload is kept: packets up to the limit
 * pass through untouched, chunk by chunk; a bigger PUBLISH is skipped as it streams past (its topic and
 * packet id are kept to answer it); anything else that big ends the connection.
 *
 * MQTT 5 has the same limit built in (CONNECT's maximumPacketSize: the broker must not send more); the guard
 * covers MQTT 3.1.1, which has no such field, and clients of the embedded broker.
 */
export interface OversizedPublish {
  topic: string;
  qos: number;
  retain: boolean;
  /** Present for QoS 1 and 2. */
  packetId: number | null;
  /** Remaining length the packet announced. */
  bytes: number;
}

const PUBLISH = 3;
/** Topic (2 + up to 65535 bytes) and packet id: all we keep of a skipped PUBLISH. */
const MAX_PUBLISH_HEAD = 2 + 65_535 + 2;

type State =
  | { kind: 'header'; bytes: number[] }
  | { kind: 'pass'; left: number }
  | { kind: 'peek'; first: number; left: number; head: Buffer[]; headBytes: number }
  | { kind: 'skip'; left: number };

export class PacketSizeGuard {
  private state: State = { kind: 'header', bytes: [] };

  /**
   * @param onOversized a PUBLISH over the limit was skipped (called once its topic and packet id are known).
   * @param onFatal a non-PUBLISH packet over the limit or a malformed header: the caller ends the connection.
   */
  constructor(
    private readonly maxRemainingBytes: number,
    private readonly onOversized: (publish: OversizedPublish) => void,
    private readonly onFatal: (reason: string) => void,
  ) {}

  /** Feeds received bytes; returns the parts to pass on (views of `chunk`, never copies of a payload). */
  feed(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let at = 0;
    while (at < chunk.length) {
      const s = this.state;
      if (s.kind === 'header') {
        s.bytes.push(chunk[at]!);
        at += 1;
        const parsed = parseFixedHeader(s.bytes);
        if (parsed === 'more') continue;
        if (parsed === 'bad') {
          this.onFatal('malformed MQTT fixed header');
          this.state = { kind: 'skip', left: Infinity };
          return out;
        }
        const { type, flags, remaining } = parsed;
        if (remaining <= this.maxRemainingBytes) {
          out.push(Buffer.from(s.bytes));
          this.state = remaining === 0 ? { kind: 'header', bytes: [] } : { kind: 'pass', left: remaining };
        } else if (type === PUBLISH) {
          this.state = { kind: 'peek', first: flags, left: remaining, head: [], headBytes: 0 };
        } else {
          this.onFatal(`packet of type ${type} announces ${remaining} bytes (limit ${this.maxRemainingBytes})`);
          this.state = { kind: 'skip', left: Infinity };
          return out;
        }
      } else if (s.kind === 'pass') {
        const take = Math.min(s.left, chunk.length - at);
        out.push(chunk.subarray(at, at + take));
        at += take;
        s.left -= take;
        if (s.left === 0) this.state = { kind: 'header', bytes: [] };
      } else if (s.kind === 'peek') {
        const qos = (s.first >> 1) & 3;
        const want = Math.min(s.left, MAX_PUBLISH_HEAD);
        const take = Math.min(want - s.headBytes, chunk.length - at);
        s.head.push(chunk.subarray(at, at + take));
        s.headBytes += take;
        at += take;
        const head = Buffer.concat(s.head);
        const topicLength = head.length >= 2 ? head.readUInt16BE(0) : Infinity;
        const needed = 2 + topicLength + (qos > 0 ? 2 : 0);
        if (head.length >= needed || s.headBytes >= want) {
          const complete = head.length >= needed;
          this.onOversized({
            topic: complete ? head.subarray(2, 2 + topicLength).toString('utf8') : '',
            qos,
            retain: (s.first & 1) === 1,
            packetId: complete && qos > 0 ? head.readUInt16BE(2 + topicLength) : null,
            bytes: s.left,
          });
          const left = s.left - s.headBytes;
          this.state = left === 0 ? { kind: 'header', bytes: [] } : { kind: 'skip', left };
          // The part of the head beyond the variable header belongs to the payload: already consumed, skipped.
        } else {
          s.head = [head];
        }
      } else {
        const take = Math.min(s.left, chunk.length - at);
        at += take;
        s.left -= take;
        if (s.left === 0) this.state = { kind: 'header', bytes: [] };
      }
    }
    return out;
  }
}

type FixedHeader = { type: number; flags: number; remaining: number };

/** MQTT fixed header: one byte type/flags, then a variable-length integer of 1 to 4 bytes. */
function parseFixedHeader(bytes: number[]): FixedHeader | 'more' | 'bad' {
  if (bytes.length < 2) return 'more';
  let remaining = 0;
  for (let i = 1; i < bytes.length; i += 1) {
    remaining += (bytes[i]! & 0x7f) * 128 ** (i - 1);
    if ((bytes[i]! & 0x80) === 0) return { type: bytes[0]! >> 4, flags: bytes[0]! & 0x0f, remaining };
    if (i === 4) return 'bad';
  }
  return 'more';
}

/**
 * A duplex in front of a socket: what mqtt.js writes goes straight out; what arrives passes the guard first.
 * The guard answers a skipped QoS 1 PUBLISH with a PUBACK itself, so the broker does not hold the message as
 * in flight (Mosquitto would otherwise stop sending after max_inflight_messages of them).
 */
export class GuardedStream extends Duplex {
  private readonly guard: PacketSizeGuard;

  constructor(
    private readonly inner: Duplex,
    maxPacketBytes: number,
    onOversized: (publish: OversizedPublish) => void,
    /** Acknowledge a skipped QoS 1 PUBLISH (client side); a broker that drops the client instead passes false. */
    ackSkipped = true,
  ) {
    super();
    this.guard = new PacketSizeGuard(
      maxPacketBytes,
      (publish) => {
        if (ackSkipped && publish.qos === 1 && publish.packetId !== null) {
          this.inner.write(Buffer.from([0x40, 0x02, publish.packetId >> 8, publish.packetId & 0xff]));
        }
        onOversized(publish);
      },
      (reason) => this.destroy(new Error(`MQTT packet refused: ${reason}`)),
    );
    inner.on('data', (chunk: Buffer) => {
      if (!this.receive(chunk, false)) inner.pause();
    });
    inner.on('end', () => this.push(null));
    inner.on('error', (error) => this.destroy(error));
    inner.on('close', () => this.destroy());
    inner.on('connect', () => this.emit('connect'));
    inner.on('secureConnect', () => this.emit('secureConnect'));
  }

  /**
   * Passes received bytes through the guard; false asks the source to pause. `copy`: the bytes live in a
   * buffer the socket reuses (`onread`, see guardedTcp), so what passes is copied and what is skipped never
   * costs an allocation.
   */
  receive(chunk: Buffer, copy: boolean): boolean {
    let more = true;
    for (const part of this.guard.feed(chunk)) more = this.push(copy ? Buffer.from(part) : part) && more;
    return more;
  }

  override _read(): void {
    this.inner.resume();
  }

  override _write(chunk: Buffer, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.inner.write(chunk, encoding, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.inner.end(callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.inner.destroy();
    callback(error);
  }
}

/**
 * A plain TCP connection behind the guard that reads into one reused 64 KiB buffer (net `onread`): skipping a
 * 50 MB message then allocates nothing. With ordinary 'data' events every read is a fresh buffer, and the
 * skipped ones sat in RSS as garbage (+32 MB for a 50 MB message over MQTT 3.1.1) until the next collection.
 */
export function guardedTcp(host: string, port: number, maxPacketBytes: number, onOversized: (publish: OversizedPublish) => void): GuardedStream {
  let guarded: GuardedStream | null = null;
  const buffer = Buffer.allocUnsafe(64 * 1024);
  const socket = net.connect({
    host, port, noDelay: true,
    onread: { buffer, callback: (bytes: number) => guarded!.receive(buffer.subarray(0, bytes), true) },
  });
  guarded = new GuardedStream(socket, maxPacketBytes, onOversized);
  return guarded;
}
