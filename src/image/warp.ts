import type { RgbImage } from './image.js';

/**
 * Perspective drawing: paints `src` into `dst` (in place) through a homography that maps source pixels to
 * destination pixels, bilinear, only where the source lands. Used to render a flat print or phone held in
 * front of a camera (attack proxies); a warp of the whole frame is the same call with a fresh canvas.
 * `toSource` is the inverse map (destination -> source), row-major 3x3.
 */
export function drawPerspective(dst: RgbImage, src: RgbImage, toSource: ArrayLike<number>): void {
  const h = toSource;
  const { width: sw, height: sh, data: s } = src;
  const d = dst.data;
  for (let y = 0; y < dst.height; y++) {
    for (let x = 0; x < dst.width; x++) {
      const u = x + 0.5;
      const v = y + 0.5;
      const w = h[6]! * u + h[7]! * v + h[8]!;
      if (w <= 0) continue;
      const sx = (h[0]! * u + h[1]! * v + h[2]!) / w - 0.5;
      const sy = (h[3]! * u + h[4]! * v + h[5]!) / w - 0.5;
      if (sx < 0 || sy < 0 || sx > sw - 1 || sy > sh - 1) continue;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const x1 = Math.min(x0 + 1, sw - 1);
      const y1 = Math.min(y0 + 1, sh - 1);
      const fx = sx - x0;
      const fy = sy - y0;
      const o = (y * dst.width + x) * 3;
      for (let c = 0; c < 3; c++) {
        const top = s[(y0 * sw + x0) * 3 + c]! * (1 - fx) + s[(y0 * sw + x1) * 3 + c]! * fx;
        const bottom = s[(y1 * sw + x0) * 3 + c]! * (1 - fx) + s[(y1 * sw + x1) * 3 + c]! * fx;
        d[o + c] = Math.round(top * (1 - fy) + bottom * fy);
      }
    }
  }
}

/** Box blur of radius r (a (2r+1)^2 mean), separable; r = 0 returns a copy. */
export function boxBlur(img: RgbImage, r: number): RgbImage {
  const radius = Math.max(0, Math.round(r));
  const { width, height } = img;
  let data = Uint8Array.from(img.data);
  if (radius === 0) return { data, width, height };
  for (const horizontal of [true, false]) {
    const out = new Uint8Array(data.length);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        for (let c = 0; c < 3; c++) {
          let sum = 0;
          let n = 0;
          for (let k = -radius; k <= radius; k++) {
            const xx = horizontal ? x + k : x;
            const yy = horizontal ? y : y + k;
            if (xx < 0 || yy < 0 || xx >= width || yy >= height) continue;
            sum += data[(yy * width + xx) * 3 + c]!;
            n++;
          }
          out[(y * width + x) * 3 + c] = Math.round(sum / n);
        }
      }
    }
    data = out;
  }
  return { data, width, height };
}
