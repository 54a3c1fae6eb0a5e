import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Camera } from '../camera/camera.js';
import type { Logger } from '../log.js';
import { decodeImage, encodeJpeg } from '../image/image.js';

/**
 * Live preview for `facegate collect` over plain HTTP: GET /preview is an MJPEG stream
 * (multipart/x-mixed-replace, what browsers and VLC show as live video), GET / a page around it, GET /status
 * the capture counts as JSON. Over SSH on a Pi this is the only way to see what the camera sees.
 */

export const BOUNDARY = 'facegate-frame';

export interface PreviewOptions {
  camera: Camera;
  port: number;
  /** Default 127.0.0.1: the camera is not shown to the network unless asked for (preview.host). */
  host?: string;
  /** Frames per second pushed to each viewer. */
  fps?: number;
  /** Extra JSON for /status (counts, last capture). */
  status?: () => unknown;
  log: Logger;
}

function isJpeg(data: Buffer): boolean {
  return data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff;
}

const PAGE = `<!doctype html><meta charset="utf-8"><title>facegate collect</title>
<body style="background:#111;color:#eee;font-family:sans-serif;text-align:center">
<h1>facegate collect</h1><p>Press <b>a</b> (anchor), <b>p</b> (positive) or <b>q</b> (quit) in the terminal.</p>
<img src="/preview" style="max-width:95vw;border:1px solid #444"><pre id="s"></pre>
<script>setInterval(async()=>{document.getElementById('s').textContent=JSON.stringify(await (await fetch('/status')).json(),null,1)},1000)</script>`;

export class PreviewServer {
  private server: Server | null = null;
  private readonly streams = new Set<ServerResponse>();
  private timer: NodeJS.Timeout | null = null;
  private lastJpeg: Buffer | null = null;
  private busy = false;

  constructor(private readonly options: PreviewOptions) {}

  /** Starts listening; resolves with the URL of the stream. Port 0 in options picks a free port (tests). */
  async start(): Promise<string> {
    const server = createServer((req, res) => this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host ?? '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    const interval = Math.round(1000 / (this.options.fps ?? 5));
    this.timer = setInterval(() => void this.pushFrame(), interval);
    const host = this.options.host ?? '127.0.0.1';
    return `http://${host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host}:${port}/preview`;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') {
      res.writeHead(405, { Allow: 'GET' }).end();
    } else if (path === '/preview') {
      res.writeHead(200, {
        'Content-Type': `multipart/x-mixed-replace; boundary=${BOUNDARY}`,
        'Cache-Control': 'no-store',
        Connection: 'close',
      });
      this.streams.add(res);
      res.on('close', () => this.streams.delete(res));
      if (this.lastJpeg) this.writePart(res, this.lastJpeg);
    } else if (path === '/status') {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(this.options.status?.() ?? {}));
    } else if (path === '/') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(PAGE);
    } else {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found: try /preview\n');
    }
  }

  private writePart(res: ServerResponse, jpeg: Buffer): void {
    res.write(`--${BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n\r\n`);
    res.write(jpeg);
    res.write('\r\n');
  }

  /** Grabs one frame for all viewers; skips a tick while the previous one is still being prepared. */
  private async pushFrame(): Promise<void> {
    if (this.busy || this.streams.size === 0) return;
    this.busy = true;
    try {
      const frame = await this.options.camera.grab();
      // Browsers only show JPEG parts; the folder camera may hold PNG or PGM.
      const jpeg = isJpeg(frame.data) ? frame.data : await encodeJpeg(await decodeImage(frame.data), 80);
      this.lastJpeg = jpeg;
      for (const res of this.streams) this.writePart(res, jpeg);
    } catch (error) {
      this.options.log.debug({ err: error }, 'preview frame skipped');
    } finally {
      this.busy = false;
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const res of this.streams) res.end();
    this.streams.clear();
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
