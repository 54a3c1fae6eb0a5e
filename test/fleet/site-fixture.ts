import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import { loadConfig, type Settings } from '../../src/config/index.js';
import type { AttemptEvent } from '../../src/core/events.js';
import type { Verifier } from '../../src/core/types.js';
import { startDaemon, type Daemon } from '../../src/daemon/daemon.js';
import { collectorClientId, startCollector, type Collector } from '../../src/fleet/collector.js';
import { loadSiteKey } from '../../src/fleet/key.js';
import { modelIdentity } from '../../src/fleet/model.js';
import { mqttTransport, whenConnected } from '../../src/fleet/mqtt-transport.js';
import { publishPerson, revokePerson } from '../../src/fleet/publish.js';
import { collectorDir } from '../../src/fleet/site-audit.js';
import { fleetTopics } from '../../src/fleet/topics.js';
import { confirmDoors, type Confirmation } from '../../src/fleet/confirm.js';
import type { Doors } from '../../src/fleet/entry.js';
import { personId } from '../../src/fleet/envelope.js';
import { clearRetained, quietLog, retainedTopicsOf, type TestBroker } from '../helpers/broker.js';
import { repoRoot } from '../helpers/datasets.js';
import { captureLog } from '../daemon/fakes.js';
import { TokenVerifier, emptyStore } from './token-verifier.js';

/** Three (or more) in-process doors of one site on a test broker, each with its own state dir and logs. */
export type VerifierKind = 'token' | 'real';

export class TestDoor {
  daemon!: Daemon;
  verifier!: Verifier;
  logs = captureLog();
  readonly attempts: Array<AttemptEvent & { door: string }> = [];

  constructor(readonly id: string, readonly settings: Settings, private readonly kind: VerifierKind) {}

  async start(): Promise<void> {
    this.logs = captureLog();
    this.daemon = await startDaemon(this.settings, this.logs.log, {
      createVerifier: async (settings, log, extra) => {
        if (this.kind === 'token') this.verifier = new TokenVerifier(extra.wrapStore ? extra.wrapStore(emptyStore) : emptyStore);
        else this.verifier = await (await import('../../src/face/verifier.js')).createVerifier(settings, log, extra.wrapStore ? { wrapStore: extra.wrapStore } : {});
        await this.verifier.reload();
        return this.verifier;
      },
      signals: new EventEmitter() as unknown as NodeJS.Process,
    });
  }

  async stop(): Promise<void> {
    await this.daemon.stop('test');
  }

  /** What the camera sees next: a copy of a photo (real) or a token file. */
  shows(photoOrToken: string): void {
    const folder = join(this.settings.paths.data, 'camera');
    mkdirSync(folder, { recursive: true });
    for (const old of readdirSync(folder)) rmSync(join(folder, old));
    const target = join(folder, `frame-${randomBytes(3).toString('hex')}.jpg`);
    if (this.kind === 'token') writeFileSync(target, `face:${photoOrToken}`);
    else copyFileSync(photoOrToken, target);
  }

  /** One button press; retried while the door is still in its (0 ms) cooldown. */
  async attempt(): Promise<AttemptEvent> {
    for (;;) {
      const outcome = await this.daemon.door.trigger('button');
      if (outcome.accepted) {
        this.attempts.push({ ...outcome.event, door: this.id });
        return outcome.event;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  refusals(code: string): number {
    return this.logs.lines().filter((l) => l.msg === 'fleet: site entry refused' && l.code === code).length;
  }
}

export interface Site {
  base: string;
  keyHex: string;
  doors: TestDoor[];
  collectorSettings: Settings;
  collector: Collector | null;
  startCollector(): Promise<void>;
  stopCollector(): Promise<void>;
  enrollThrough(door: TestDoor, name: string, embeddings: Float32Array[], doors?: Doors): Promise<number>;
  revokeThrough(door: TestDoor, name: string): Promise<number>;
  /** What `facegate fleet revoke` reports after publishing: which doors took a version. */
  confirm(version: number, waitMs: number): Promise<Confirmation>;
  /** Every line of the collector's store. */
  collected(): Array<AttemptEvent & { door: string }>;
  close(): Promise<void>;
}

export function siteSettings(broker: TestBroker, base: string, keyHex: string, dir: string, deviceId: string): Settings {
  return loadConfig({
    env: {},
    overrides: {
      deviceId,
      'paths.data': join(dir, 'data'),
      'paths.state': join(dir, 'state'),
      'model.dir': join(repoRoot, 'models/default'),
      'mqtt.url': broker.url,
      'mqtt.embedded': 'never',
      'mqtt.baseTopic': base,
      'mqtt.homeAssistant.prefix': `${base}-ha`,
      'mqtt.reconnectMinMs': 50,
      'mqtt.reconnectMaxMs': 400,
      'fleet.enabled': true,
      'fleet.key': keyHex,
      'door.cooldownMs': 0,
      'security.maxFailures': 0,
      'keyboard.enabled': false,
      'systemd.notify': 'never',
    },
  }).getProperties();
}

export async function startSite(broker: TestBroker, kind: VerifierKind, count = 3): Promise<Site> {
  const root = mkdtempSync(join(tmpdir(), 'facegate-site-'));
  const base = `fg-site-${randomBytes(4).toString('hex')}`;
  const keyHex = randomBytes(32).toString('hex');
  const doors = Array.from({ length: count }, (_, i) => {
    const id = `door-${String.fromCharCode(97 + i)}`;
    return new TestDoor(id, siteSettings(broker, base, keyHex, join(root, id), id), kind);
  });
  for (const door of doors) await door.start();
  // The collector needs no site key: attempts are not sealed (they were public on the broker before the fleet).
  const collectorSettings = siteSettings(broker, base, keyHex, join(root, 'collector'), 'collector');
  const published: string[] = [];
  const withTransport = async <T>(door: TestDoor, use: (ctx: Parameters<typeof publishPerson>[0]) => Promise<T>): Promise<T> => {
    const transport = mqttTransport(door.settings, `t-fleet-${randomBytes(4).toString('hex')}`, quietLog());
    try {
      await whenConnected(transport, broker.url);
      return await use({ transport, key: loadSiteKey(door.settings), topics: fleetTopics(door.settings) });
    } finally {
      await transport.close();
    }
  };
  const site: Site = {
    base, keyHex, doors, collectorSettings, collector: null,
    async startCollector() {
      site.collector = startCollector(collectorSettings, quietLog());
      await site.collector.ready;
    },
    async stopCollector() {
      await site.collector?.stop();
      site.collector = null;
    },
    // What `facegate fleet enroll` does, with this door's config, model and key.
    enrollThrough: (door, name, embeddings, allowed = 'all') => withTransport(door, async (ctx) => {
      const identity = await modelIdentity(door.settings.model.dir);
      published.push(ctx.topics.person(personId(ctx.key, name)));
      return (await publishPerson(ctx, { name, space: identity.space, model: identity.label, embeddings, doors: allowed, by: door.id })).version;
    }),
    revokeThrough: (door, name) => withTransport(door, async (ctx) => (await revokePerson(ctx, name, door.id)).version),
    confirm: (version, waitMs) => withTransport(doors[0]!, (ctx) => confirmDoors(ctx.transport, ctx.topics, version, waitMs)),
    collected() {
      const dir = collectorDir(collectorSettings);
      return readdirSync(dir).filter((f) => f.endsWith('.jsonl')).flatMap((f) =>
        readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as AttemptEvent & { door: string }));
    },
    async close() {
      await Promise.allSettled(doors.map((d) => d.stop()));
      await site.stopCollector();
      // Leave nothing behind on a shared broker: retained messages and the collector's persistent session.
      const topics = fleetTopics(doors[0]!.settings);
      await clearRetained(broker.url, [...published, ...doors.flatMap((d) => [...retainedTopicsOf(d.settings), topics.doorFleet(d.id)])]).catch(() => undefined);
      const purge = await connectAsync(broker.url, { clientId: collectorClientId(collectorSettings), clean: true, reconnectPeriod: 0 }).catch(() => null);
      await purge?.endAsync();
      rmSync(root, { recursive: true, force: true });
    },
  };
  return site;
}

/** Polls until probe() holds; returns the ms it took. The test's own timeout is the only limit here. */
export async function until(probe: () => boolean | Promise<boolean>, intervalMs = 25): Promise<number> {
  const t0 = performance.now();
  while (!(await probe())) await new Promise((resolve) => setTimeout(resolve, intervalMs));
  return performance.now() - t0;
}
