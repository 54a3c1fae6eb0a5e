import { createHash, randomBytes } from 'node:crypto';
import type { Settings } from '../config/index.js';
import type { Logger } from '../log.js';
import type { BurstRequest, Camera, CameraStatus, Frame } from './camera.js';
import { FrameStore } from './frame-store.js';
import { JpegFrameSplitter } from './mjpeg.js';

/**
 * An IP camera over HTTP: "snapshot" fetches one JPEG per grab(); "mjpeg" keeps a multipart stream open, cuts
 * it with the same JPEG splitter as rpicam-vid (part headers and boundaries are just bytes between frames) and
 * reconnects with backoff. Basic and Digest (RFC 7616: MD5, SHA-256, qop=auth) authentication, answered when
 * the camera asks for it.
 */

interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Splits WWW-Authenticate (possibly several challenges joined by ", ") into schemes and their parameters. */
export function parseChallenges(header: string): Challenge[] {
  const challenges: Challenge[] = [];
  const token = /\s*,?\s*([A-Za-z0-9!#$%&'*+.^_`|~-]+)\s*(=\s*("((?:[^"\\]|\\.)*)"|[^,\s]*))?/y;
  let match: RegExpExecArray | null;
  while (token.lastIndex < header.length && (match = token.exec(header))) {
    if (match[2] === undefined) challenges.push({ scheme: match[1]!.toLowerCase(), params: {} });
    else if (challenges.length) challenges[challenges.length - 1]!.params[match[1]!.toLowerCase()] = match[4]?.replace(/\\(.)/g, '$1') ?? match[3]!;
  }
  return challenges;
}

const DIGEST_HASHES: Record<string, string> = { 'md5': 'md5', 'md5-sess': 'md5', 'sha-256': 'sha256', 'sha-256-sess': 'sha256' };

/** The Authorization header answering `challenge` for one request. `nc` counts uses of the same nonce. */
export function digestAuthorization(
  challenge: Record<string, string>,
  credentials: { username: string; password: string },
  request: { method: string; uri: string },
  nc: number,
  cnonce = randomBytes(16).toString('hex'),
): string {
  const algorithm = (challenge.algorithm ?? 'MD5').toLowerCase();
  const hashName = DIGEST_HASHES[algorithm];
  if (!hashName) throw new Error(`camera asks for digest algorithm ${challenge.algorithm}, which is not supported`);
  const h = (text: string) => createHash(hashName).update(text).digest('hex');
  const { realm = '', nonce = '' } = challenge;
  let ha1 = h(`${credentials.username}:${realm}:${credentials.password}`);
  if (algorithm.endsWith('-sess')) ha1 = h(`${ha1}:${nonce}:${cnonce}`);
  const ha2 = h(`${request.method}:${request.uri}`);
  const qops = (challenge.qop ?? '').split(',').map((q) => q.trim());
  const ncHex = nc.toString(16).padStart(8, '0');
  const useQop = qops.includes('auth');
  if (challenge.qop && !useQop) throw new Error(`camera asks for digest qop "${challenge.qop}"; only "auth" is supported`);
  const response = useQop ? h(`${ha1}:${nonce}:${ncHex}:${cnonce}:auth:${ha2}`) : h(`${ha1}:${nonce}:${ha2}`);
  const quote = (v: string) => `"${v.replace(/(["\\])/g, '\\$1')}"`;
  const parts = [
    `username=${quote(credentials.username)}`,
    `realm=${quote(realm)}`,
    `nonce=${quote(nonce)}`,
    `uri=${quote(request.uri)}`,
    `algorithm=${challenge.algorithm ?? 'MD5'}`,
    `response=${quote(response)}`,
    ...(useQop ? [`qop=auth`, `nc=${ncHex}`, `cnonce=${quote(cnonce)}`] : []),
    ...(challenge.opaque !== undefined ? [`opaque=${quote(challenge.opaque)}`] : []),
  ];
  return `Digest ${parts.join(', ')}`;
}

export class HttpCamera implements Camera {
  private readonly frames: FrameStore;
  private running = false;
  private restarts = 0;
  private lastError: string | undefined;
  private streamAbort: AbortController | null = null;
  private streamLoop: Promise<void> | null = null;
  private challenge: Challenge | null = null;
  private nonceCount = 0;
  private readonly url: URL;

  constructor(
    private readonly camera: Settings['camera'],
    private readonly log: Logger,
  ) {
    if (!camera.url) throw new Error('camera.url must be set for the http camera');
    this.url = new URL(camera.url);
    // fetch refuses URLs with credentials, and the URL is printed in logs: credentials are settings of their own.
    if (this.url.username || this.url.password) throw new Error('camera.url must not carry credentials: set camera.username and camera.password instead');
    this.frames = new FrameStore(camera.maxAgeMs);
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.frames.begin();
    if (this.camera.httpMode === 'mjpeg') this.streamLoop = this.keepStreaming();
  }

  async grab(signal?: AbortSignal): Promise<Frame> {
    if (!this.running) throw new Error('http camera is not started');
    if (this.camera.httpMode === 'mjpeg') {
      return this.frames.fresh(signal, (waited) => new Error(`no frame from ${this.printableUrl()} for ${waited} ms${this.lastError ? `: ${this.lastError}` : ''}`));
    }
    const response = await this.request(signal);
    const data = Buffer.from(await response.arrayBuffer());
    if (data[0] !== 0xff || data[1] !== 0xd8) throw this.fail(`${this.printableUrl()} did not return a JPEG (${response.headers.get('content-type') ?? 'no content type'})`);
    this.frames.put(data, this.printableUrl());
    this.lastError = undefined;
    return { data, capturedAt: Date.now(), source: this.printableUrl() };
  }

  /**
   * MJPEG: frames straight from the stream. Snapshot mode: one request after another until count or
   * durationMs (each request takes the camera's own time, so fewer frames may fit).
   */
  async burst(request: BurstRequest, signal?: AbortSignal): Promise<Frame[]> {
    if (!this.running) throw new Error('http camera is not started');
    if (this.camera.httpMode === 'mjpeg') {
      return this.frames.burst(request, signal, (waited) => new Error(`no frame from ${this.printableUrl()} for ${waited} ms${this.lastError ? `: ${this.lastError}` : ''}`));
    }
    const frames = [await this.grab(signal)];
    const deadline = frames[0]!.capturedAt + request.durationMs;
    while (frames.length < request.count && Date.now() < deadline) frames.push(await this.grab(signal));
    return frames;
  }

  status(): CameraStatus {
    const age = this.frames.lastFrameAgeMs();
    const streaming = this.camera.httpMode === 'mjpeg';
    const healthy = this.running && (streaming ? age !== null && age <= this.camera.maxAgeMs : this.lastError === undefined);
    return {
      driver: 'http',
      healthy,
      fps: this.frames.fps(),
      lastFrameAgeMs: age,
      restarts: this.restarts,
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  async stop(): Promise<void> {
    this.running = false;
    this.frames.close(new Error('http camera stopped'));
    this.streamAbort?.abort();
    await this.streamLoop;
    this.streamLoop = null;
  }

  /** GET with the timeout and the caller's signal; answers one 401 with the credentials, as the camera asked. */
  private async request(signal?: AbortSignal, timeout = true): Promise<Response> {
    const signals = [signal, timeout ? AbortSignal.timeout(this.camera.timeoutMs) : undefined].filter((s): s is AbortSignal => !!s);
    const combined = signals.length ? AbortSignal.any(signals) : undefined;
    try {
      let response = await fetch(this.url, { headers: this.authHeaders(), ...(combined ? { signal: combined } : {}) });
      if (response.status === 401 && this.camera.username !== null) {
        await response.body?.cancel();
        const stale = this.challenge !== null;
        this.challenge = this.pickChallenge(response.headers.get('www-authenticate') ?? '');
        this.nonceCount = 0;
        response = await fetch(this.url, { headers: this.authHeaders(), ...(combined ? { signal: combined } : {}) });
        if (response.status === 401 && stale) this.challenge = null;
      }
      if (response.status === 401) {
        await response.body?.cancel();
        throw new Error(this.camera.username === null ? 'the camera wants a login: set camera.username and camera.password' : 'camera.username or camera.password is wrong (401)');
      }
      if (!response.ok) {
        await response.body?.cancel();
        throw new Error(`HTTP ${response.status} ${response.statusText}`);
      }
      return response;
    } catch (error) {
      const err = error as Error;
      if (err.name === 'TimeoutError') throw this.fail(`${this.printableUrl()}: no answer within ${this.camera.timeoutMs} ms (camera.timeoutMs)`);
      if (signal?.aborted) throw err;
      throw this.fail(`${this.printableUrl()}: ${err.message}${(err.cause as Error | undefined)?.message ? ` (${(err.cause as Error).message})` : ''}`);
    }
  }

  private pickChallenge(header: string): Challenge {
    const challenges = parseChallenges(header);
    const digest = (alg: string) => challenges.find((c) => c.scheme === 'digest' && (c.params.algorithm ?? 'MD5').toUpperCase() === alg);
    const chosen = digest('SHA-256') ?? digest('SHA-256-SESS') ?? digest('MD5') ?? digest('MD5-SESS') ?? challenges.find((c) => c.scheme === 'basic');
    if (!chosen) throw new Error(`camera asks for an unsupported login: ${header || '(no WWW-Authenticate header)'}`);
    return chosen;
  }

  private authHeaders(): Record<string, string> {
    const { username, password } = this.camera;
    if (!this.challenge || username === null) return {};
    const credentials = { username, password: password ?? '' };
    if (this.challenge.scheme === 'basic') {
      return { authorization: `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}` };
    }
    const uri = `${this.url.pathname}${this.url.search}`;
    return { authorization: digestAuthorization(this.challenge.params, credentials, { method: 'GET', uri }, ++this.nonceCount) };
  }

  /** Reads the multipart stream until it ends or fails, then reconnects after a growing pause. */
  private async keepStreaming(): Promise<void> {
    let delay = this.camera.restartMinMs;
    while (this.running) {
      this.streamAbort = new AbortController();
      let gotFrame = false;
      try {
        const response = await this.request(this.streamAbort.signal, false);
        const splitter = new JpegFrameSplitter((jpeg) => {
          gotFrame = true;
          this.lastError = undefined;
          this.frames.put(jpeg, this.printableUrl());
        });
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) splitter.push(Buffer.from(chunk));
        this.lastError = 'the stream ended';
      } catch (error) {
        if (!this.running) break;
        this.lastError = (error as Error).message;
      }
      if (!this.running) break;
      if (gotFrame) delay = this.camera.restartMinMs;
      this.log.warn({ url: this.printableUrl(), cause: this.lastError, reconnectInMs: delay }, `MJPEG stream lost; reconnecting in ${delay} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        if (this.streamAbort!.signal.aborted) resolve();
        this.streamAbort!.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
      });
      delay = Math.min(delay * 2, this.camera.restartMaxMs);
      if (this.running) this.restarts++;
    }
  }

  private fail(message: string): Error {
    this.lastError = message;
    return new Error(message);
  }

  private printableUrl(): string {
    return `${this.url.origin}${this.url.pathname}`;
  }
}

export function createHttpCamera(camera: Settings['camera'], logger: Logger): HttpCamera {
  return new HttpCamera(camera, logger.child({ camera: 'http' }));
}
