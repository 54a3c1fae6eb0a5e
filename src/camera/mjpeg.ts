/**
 * Splits a byte stream of concatenated JPEGs (rpicam-vid / ffmpeg `-f mjpeg`, or the body of a multipart
 * MJPEG stream) into whole frames.
 *
 * It walks the JPEG structure instead of searching for the next FFD9: marker segments are skipped by their
 * length (so an EXIF thumbnail, itself a complete JPEG, cannot end a frame early) and only the entropy-coded
 * data after SOS is scanned, where 0xFF is always followed by 0x00 (stuffing) or a restart marker. Anything
 * that does not fit the structure (garbage, a frame cut short, a frame that grows past the size limit) is
 * dropped and the splitter resynchronises on the next SOI. Partial reads are fine: the state survives
 * between chunks and no byte is scanned twice.
 */

const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;
const TEM = 0x01;

export interface SplitterStats {
  frames: number;
  /** Frames abandoned: cut short by a new SOI, malformed, or larger than the limit. */
  dropped: number;
  /** Bytes thrown away outside any frame (garbage between frames, dropped partial frames). */
  discardedBytes: number;
}

export interface SplitterOptions {
  /** A frame growing beyond this is dropped and the stream resynchronised (bounds memory). */
  maxFrameBytes?: number;
}

export const DEFAULT_MAX_FRAME_BYTES = 8 * 1024 * 1024;

type Mode = 'seek-soi' | 'header' | 'scan';

export class JpegFrameSplitter {
  private readonly maxFrameBytes: number;
  private pending: Buffer = Buffer.alloc(0);
  private mode: Mode = 'seek-soi';
  /** Where the next byte to examine is, relative to `pending` (which always starts at the current SOI). */
  private cursor = 0;
  /** Whether the current frame has had its (one) SOF header. */
  private sawSof = false;
  readonly stats: SplitterStats = { frames: 0, dropped: 0, discardedBytes: 0 };

  constructor(
    private readonly onFrame: (jpeg: Buffer) => void,
    options: SplitterOptions = {},
  ) {
    this.maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  }

  /** Feeds the next chunk; calls onFrame for every frame it completes. */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    this.advance();
  }

  /** Forgets a partial frame, e.g. when the producer restarts mid-frame. */
  reset(): void {
    if (this.mode !== 'seek-soi') this.stats.dropped++;
    this.stats.discardedBytes += this.pending.length;
    this.pending = Buffer.alloc(0);
    this.mode = 'seek-soi';
    this.cursor = 0;
  }

  private advance(): void {
    for (;;) {
      const progressed =
        this.mode === 'seek-soi' ? this.seekSoi() : this.mode === 'header' ? this.walkHeader() : this.scanEntropy();
      if (!progressed) break;
    }
    if (this.mode !== 'seek-soi' && this.cursor > this.maxFrameBytes) {
      this.abandonFrame(this.cursor);
      this.advance();
    }
  }

  /** Discards everything before the next SOI; keeps a trailing 0xFF that may start a marker split across chunks. */
  private seekSoi(): boolean {
    const buf = this.pending;
    for (let i = this.cursor; i + 1 < buf.length; i++) {
      if (buf[i] === 0xff && buf[i + 1] === SOI) {
        this.discard(i);
        this.mode = 'header';
        this.cursor = 2;
        this.sawSof = false;
        return true;
      }
    }
    const keep = buf.length > 0 && buf[buf.length - 1] === 0xff ? 1 : 0;
    this.discard(buf.length - keep);
    return false;
  }

  /** Between SOI and SOS: a chain of markers, most with a 2-byte length. */
  private walkHeader(): boolean {
    const buf = this.pending;
    let p = this.cursor;
    for (;;) {
      if (p + 1 >= buf.length) break;
      if (buf[p] !== 0xff) return this.resyncAfterStart();
      const marker = buf[p + 1]!;
      if (marker === 0xff) {
        p++; // fill byte
        continue;
      }
      if (marker === SOI) return this.restartAt(p);
      if (marker === EOI) return this.resyncAfterStart(); // EOI before any image data: not a frame
      if (marker === TEM || (marker >= 0xd0 && marker <= 0xd7)) {
        p += 2;
        continue;
      }
      if (p + 3 >= buf.length) break;
      // A length of 0xFFxx is no real segment: it is a marker, i.e. this frame was cut right after a marker.
      if (buf[p + 2] === 0xff) return buf[p + 3] === SOI ? this.restartAt(p + 2) : this.resyncAfterStart();
      const length = buf.readUInt16BE(p + 2);
      if (length < 2) return this.resyncAfterStart();
      if (!isAppOrComment(marker)) {
        // Tables are small: wait until the whole segment is here, and treat a start marker inside it as the
        // next frame (this frame was cut short). Only APPn/COM may legitimately hold a JPEG (a thumbnail).
        if (p + 2 + length > buf.length) break;
        const next = findFrameStart(buf.subarray(p + 2, p + 2 + length)); // from the length bytes on
        if (next >= 0) return this.restartAt(p + 2 + next);
      }
      if (isSof(marker)) {
        if (this.sawSof) return this.resyncAfterStart(); // two frame headers: a cut frame ran into the next
        this.sawSof = true;
      }
      p += 2 + length;
      if (marker === SOS) {
        if (!this.sawSof) return this.resyncAfterStart();
        this.cursor = p;
        this.mode = 'scan';
        return true;
      }
    }
    this.cursor = p;
    return false;
  }

  /** After SOS: only 0xFF followed by something other than 0x00 / RSTn / fill is a marker. */
  private scanEntropy(): boolean {
    const buf = this.pending;
    let p = this.cursor;
    while (p + 1 < buf.length) {
      const at = buf.indexOf(0xff, p);
      if (at < 0 || at + 1 >= buf.length) {
        p = at < 0 ? buf.length : at;
        break;
      }
      const next = buf[at + 1]!;
      if (next === 0x00 || next === 0xff || (next >= 0xd0 && next <= 0xd7)) {
        p = at + 1;
        continue;
      }
      if (next === EOI) {
        this.emit(at + 2);
        return true;
      }
      if (next === SOI) return this.restartAt(at);
      // Another table or scan (progressive JPEG): back to walking markers.
      this.cursor = at;
      this.mode = 'header';
      return true;
    }
    this.cursor = p;
    return false;
  }

  private emit(end: number): void {
    // A copy, so the newest frame never pins the larger concatenation buffer it was cut from.
    this.onFrame(Buffer.from(this.pending.subarray(0, end)));
    this.stats.frames++;
    this.pending = this.pending.subarray(end);
    this.mode = 'seek-soi';
    this.cursor = 0;
  }

  /** A new SOI arrived before the current frame ended: the partial frame is dropped. */
  private restartAt(soiOffset: number): boolean {
    this.stats.dropped++;
    this.discard(soiOffset);
    this.mode = 'header';
    this.cursor = 2;
    this.sawSof = false;
    return true;
  }

  /** The structure broke: drop this frame and look for an SOI after its start. */
  private resyncAfterStart(): boolean {
    this.stats.dropped++;
    this.discard(1);
    this.mode = 'seek-soi';
    this.cursor = 0;
    return true;
  }

  private abandonFrame(upTo: number): void {
    this.stats.dropped++;
    this.discard(Math.min(upTo, this.pending.length));
    this.mode = 'seek-soi';
    this.cursor = 0;
  }

  private discard(count: number): void {
    if (count <= 0) return;
    this.stats.discardedBytes += count;
    this.pending = this.pending.subarray(count);
  }
}

/** SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC). */
function isSof(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

function isAppOrComment(marker: number): boolean {
  return (marker >= 0xe0 && marker <= 0xef) || marker === 0xfe;
}

/** Offset of FF D8 FF (an SOI followed by a marker) in `bytes`, or -1. */
function findFrameStart(bytes: Buffer): number {
  for (let i = bytes.indexOf(0xff); i >= 0 && i + 2 < bytes.length; i = bytes.indexOf(0xff, i + 1)) {
    if (bytes[i + 1] === SOI && bytes[i + 2] === 0xff) return i;
  }
  return -1;
}

// The frame store moved to its own file; re-exported so existing imports keep working.
export { FrameStore } from './frame-store.js';
