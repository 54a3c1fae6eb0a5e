/**
 * Netpbm greyscale (PGM) reader: P5 (binary) and P2 (ASCII). sharp/libvips cannot read PGM, and the ORL
 * dataset (and some old cameras) use it. Returns 8-bit grey samples; 16-bit files are scaled down.
 */

export interface GreyImage {
  data: Uint8Array;
  width: number;
  height: number;
}

export class PgmError extends Error {
  override name = 'PgmError';
}

/** True when the buffer starts like a PGM file ("P5"/"P2" then whitespace). */
export function isPgm(buf: Uint8Array): boolean {
  return buf.length >= 3 && buf[0] === 0x50 && (buf[1] === 0x35 || buf[1] === 0x32) && isSpace(buf[2]!);
}

export function decodePgm(buf: Uint8Array): GreyImage {
  if (!isPgm(buf)) throw new PgmError('not a PGM file (expected "P5" or "P2" magic)');
  const binary = buf[1] === 0x35;
  const reader = new HeaderReader(buf, 2);
  const width = reader.int('width');
  const height = reader.int('height');
  const maxval = reader.int('maxval');
  if (width < 1 || height < 1) throw new PgmError(`PGM has an empty size ${width}x${height}`);
  if (width * height > 64 * 1024 * 1024) throw new PgmError(`PGM size ${width}x${height} is implausibly large`);
  if (maxval < 1 || maxval > 65535) throw new PgmError(`PGM maxval ${maxval} is outside 1..65535`);
  const count = width * height;
  const data = new Uint8Array(count);
  const scale = 255 / maxval;
  if (binary) {
    // Exactly one whitespace byte separates maxval from the raster.
    const start = reader.pos + 1;
    const bytesPerSample = maxval > 255 ? 2 : 1;
    const needed = count * bytesPerSample;
    if (buf.length - start < needed) {
      throw new PgmError(`PGM raster is truncated: ${Math.max(0, buf.length - start)} of ${needed} bytes`);
    }
    for (let i = 0; i < count; i++) {
      const v = bytesPerSample === 1 ? buf[start + i]! : (buf[start + 2 * i]! << 8) | buf[start + 2 * i + 1]!;
      data[i] = maxval === 255 ? v : Math.min(255, Math.round(v * scale));
    }
  } else {
    for (let i = 0; i < count; i++) {
      const v = reader.int(`sample ${i + 1} of ${count}`);
      if (v > maxval) throw new PgmError(`PGM sample ${v} exceeds maxval ${maxval}`);
      data[i] = maxval === 255 ? v : Math.min(255, Math.round(v * scale));
    }
  }
  return { data, width, height };
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0b || c === 0x0c;
}

/** Reads whitespace-separated decimal integers, skipping "#" comments to end of line. */
class HeaderReader {
  constructor(
    private readonly buf: Uint8Array,
    public pos: number,
  ) {}

  int(what: string): number {
    const { buf } = this;
    for (;;) {
      while (this.pos < buf.length && isSpace(buf[this.pos]!)) this.pos++;
      if (buf[this.pos] !== 0x23) break;
      while (this.pos < buf.length && buf[this.pos] !== 0x0a && buf[this.pos] !== 0x0d) this.pos++;
    }
    let value = 0;
    let digits = 0;
    while (this.pos < buf.length && buf[this.pos]! >= 0x30 && buf[this.pos]! <= 0x39) {
      value = value * 10 + (buf[this.pos]! - 0x30);
      this.pos++;
      digits++;
      if (digits > 9) throw new PgmError(`PGM ${what} has too many digits`);
    }
    if (digits === 0) {
      throw new PgmError(this.pos >= buf.length ? `PGM is truncated before ${what}` : `PGM ${what} is not a number`);
    }
    return value;
  }
}
