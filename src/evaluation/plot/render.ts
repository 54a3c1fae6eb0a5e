import { writeFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import sharp from 'sharp';
import type { TopLevelSpec } from 'vega-lite';

/**
 * The one adapter for charts: a Vega-Lite spec is compiled to Vega, rendered headless to SVG (no canvas
 * package needed) and rasterised by sharp (librsvg; text uses fontconfig, so any installed sans font works).
 */

export interface RenderOptions {
  /** Pixel density: 2 gives a crisp image on high-DPI screens and in reports. */
  scale?: number;
}

/**
 * vega + vega-lite are 24 MB used only by `evaluate --plot`: optional peer dependencies, loaded on first use,
 * so a door's install (npm ci --omit=dev) leaves them out and everything else runs without them.
 */
async function loadVega() {
  try {
    const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
    return { vega, compile: vegaLite.compile };
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND';
    if (!missing) throw error;
    throw new Error('plots need the optional packages vega and vega-lite: npm install --no-save vega@6 vega-lite@6 (a development checkout has them)', { cause: error });
  }
}

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const { vega, compile } = await loadVega();
  const { spec: vegaSpec } = compile(spec);
  const view = new vega.View(vega.parse(vegaSpec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export async function renderPng(spec: TopLevelSpec, options: RenderOptions = {}): Promise<Buffer> {
  const svg = await renderSvg(spec);
  const scale = options.scale ?? 2;
  // density is in DPI: librsvg renders SVG user units at 72 DPI, so 72 * scale multiplies the pixel size.
  return sharp(Buffer.from(svg), { density: 72 * scale }).flatten({ background: '#ffffff' }).png().toBuffer();
}

export async function writePng(spec: TopLevelSpec, file: string, options: RenderOptions = {}): Promise<{ width: number; height: number }> {
  const png = await renderPng(spec, options);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, png);
  const meta = await sharp(png).metadata();
  return { width: meta.width ?? 0, height: meta.height ?? 0 };
}
