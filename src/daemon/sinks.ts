import type { AttemptEvent, EventSink, StatusEvent } from '../core/events.js';
import type { Logger } from '../log.js';

/**
 * Hands every event to each sink (MQTT, audit, log). A slow or failing sink never holds up or breaks
 * the others: each runs on its own and failures are logged here.
 */
export class FanOutSink implements EventSink {
  private readonly sinks: Array<{ name: string; sink: EventSink }> = [];

  constructor(private readonly log: Logger) {}

  add(name: string, sink: EventSink): void {
    this.sinks.push({ name, sink });
  }

  remove(sink: EventSink): void {
    const index = this.sinks.findIndex((s) => s.sink === sink);
    if (index >= 0) this.sinks.splice(index, 1);
  }

  names(): string[] {
    return this.sinks.map((s) => s.name);
  }

  async attempt(event: AttemptEvent, snapshot?: Buffer): Promise<void> {
    await this.each((sink) => sink.attempt(event, snapshot), 'attempt');
  }

  async status(event: StatusEvent): Promise<void> {
    await this.each((sink) => sink.status(event), 'status');
  }

  private async each(deliver: (sink: EventSink) => Promise<void>, kind: string): Promise<void> {
    await Promise.all(
      this.sinks.map(async ({ name, sink }) => {
        try {
          await deliver(sink);
        } catch (error) {
          this.log.error({ err: error, sink: name, kind }, 'event sink failed');
        }
      }),
    );
  }
}

function roundedTimings(timings: AttemptEvent['timings']): Record<string, number> {
  return Object.fromEntries(Object.entries(timings).map(([stage, ms]) => [stage, typeof ms === 'number' ? Math.round(ms) : ms]));
}

/**
 * The pino log as a sink. The door already logs each attempt under its child logger; this adds the
 * one-line summary operators grep for and each mode change.
 */
export function logSink(log: Logger): EventSink {
  let lastMode: string | null = null;
  return {
    async attempt(event) {
      // The one info line per decision (the door logs its detailed view at debug): who, why, how sure, how long.
      const who = event.identity ? ` ${event.identity}` : '';
      const why = event.reason ? ` (${event.reason})` : '';
      log.info({ event: 'attempt', attempt: event.id, decision: event.decision, identity: event.identity, trigger: event.trigger,
        reason: event.reason, fraction: event.fraction, totalMs: Math.round(event.timings.total), timings: roundedTimings(event.timings) },
        `attempt ${event.decision}${who}${why} in ${Math.round(event.timings.total)} ms [${event.trigger}]`);
    },
    async status(event) {
      const level = event.mode === lastMode ? 'debug' : 'info';
      lastMode = event.mode;
      log[level]({ event: 'status', mode: event.mode, relay: event.relay, lockedOutUntil: event.lockedOutUntil }, `door ${event.mode}`);
    },
  };
}
