import { writeFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import sharp from 'sharp';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/**
 * The one adapter for charts: a Vega-Lite spec is compiled to Vega, rendered headless to SVG (no canvas
 * package needed) and rasterised by sharp (librsvg; text uses fontconfig, so any installed sans font works).
 */

export interface RenderOptions {
  /** Pixel density: 2 gives a crisp image on high-DPI screens and in reports. */
  scale?: number;
}

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
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
