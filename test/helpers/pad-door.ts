import { EventEmitter } from 'node:events';
import { join, resolve } from 'node:path';
import { loadConfig } from '../../src/config/index.js';
import { startDaemon, type ClosableSink } from '../../src/daemon/daemon.js';
import type { AttemptEvent, StatusEvent } from '../../src/core/events.js';
import { createLogger, type Logger } from '../../src/log.js';
import type { DoorScenario, ScenarioStream } from '../../src/evaluation/pad/scenario.js';
import { repoRoot } from './datasets.js';

/** Everything the daemon published, as an MQTT bridge would have carried it. */
export class RecordingBridge implements ClosableSink {
  attempts: AttemptEvent[] = [];
  statuses: StatusEvent[] = [];
  async attempt(event: AttemptEvent) {
    this.attempts.push(event);
  }
  async status(event: StatusEvent) {
    this.statuses.push(event);
  }
  async close() {}
}

/**
 * The real daemon (real verifier, real rpicam driver and supervisor) against the stand-in rpicam-vid streaming
 * one scenario stream at 10 fps; presses the button `tries` times, waiting `gapMs` between presses so that each
 * burst starts at another point of the looped stream. Lockout off: each try is judged on its own.
 */
export async function pressAtDoor(scenario: DoorScenario, stream: ScenarioStream, opts: { tries: number; stateDir: string; liveness?: string; log?: Logger; gapMs?: number }) {
  process.env.FAKE_CAMERA_FRAMES = scenario.streams[stream];
  const settings = loadConfig({
    env: {},
    overrides: {
      'camera.driver': 'rpicam', 'camera.command': resolve(repoRoot, 'test/fixtures/fake-rpicam-vid'),
      'camera.width': 400, 'camera.height': 300, 'camera.framerate': 10,
      'gallery.dir': scenario.gallery, 'paths.data': opts.stateDir, 'paths.state': join(opts.stateDir, 'state'),
      'door.cooldownMs': 0, 'security.maxFailures': 0, 'keyboard.enabled': false, 'audit.enabled': true,
      'liveness.mode': opts.liveness ?? 'auto',
    },
  }).getProperties();
  const bridge = new RecordingBridge();
  const daemon = await startDaemon(settings, opts.log ?? createLogger({ level: 'silent' }), {
    startMqtt: async () => bridge,
    signals: new EventEmitter() as unknown as NodeJS.Process,
  });
  const events: AttemptEvent[] = [];
  try {
    for (let i = 0; i < opts.tries; i++) {
      const outcome = await daemon.door.trigger('button');
      if (!outcome.accepted) throw new Error(`press ${i} refused: ${outcome.reason}`);
      events.push(outcome.event);
      await new Promise((r) => setTimeout(r, (opts.gapMs ?? 130) * (1 + (i % 3))));
    }
    return { events, status: daemon.door.status(), bridge };
  } finally {
    await daemon.stop('scenario over');
    delete process.env.FAKE_CAMERA_FRAMES;
  }
}
