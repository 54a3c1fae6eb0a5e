import { randomUUID } from 'node:crypto';
import type { Command, CommandName, CommandPort, CommandReply } from '../core/commands.js';
import type { Logger } from '../log.js';
import type { CommandGate, CommandVerdict } from './commands.js';
import type { InboundMessage, MqttFeature, MqttLink, Release } from './hub.js';
import type { OversizedPublish } from './packet-guard.js';
import { commandNameOf, type Topics } from './topics.js';

export interface RemoteCommandsOptions {
  /** Minimum time between two honoured presses of the same Home Assistant button (default 3000 ms). */
  pressMinIntervalMs: number;
  /** mqtt.revealToUnsigned: identities and faces for unsigned requesters too. */
  revealToUnsigned: boolean;
  now: () => number;
}

type Result = {
  id: string | null; command: string; ok: boolean; reason?: string;
  attemptId?: string; decision?: string; identity?: string | null;
};

/** How many recent unsigned command ids are remembered so their attempts' faces stay off MQTT. */
const UNSIGNED_IDS_KEPT = 64;

/**
 * MQTT's side of the command port: checks each message on cmd/... (commands.ts) and hands what passes to the
 * daemon as a transport-neutral Command; publishes exactly one result per message on cmd/<name>/result.
 * Retained commands never run: MQTT 5 keeps the retain flag on live delivery (retain-as-published), and any
 * retained command seen is cleared from the broker so it cannot come back at the next reconnect.
 */
export class RemoteCommandsFeature implements MqttFeature {
  readonly name = 'commands';
  private readonly releases: Release[] = [];
  private readonly lastPressAt = new Map<string, number>();
  private readonly unsignedIds = new Set<string>();

  constructor(
    private readonly link: MqttLink,
    private readonly topics: Topics,
    private readonly gate: CommandGate,
    private readonly port: CommandPort,
    private readonly options: RemoteCommandsOptions,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    this.releases.push(await this.link.subscribe(this.topics.commandFilters, (m) => this.onCommand(m)));
    this.releases.push(await this.link.subscribe([this.topics.verifyPress, this.topics.reloadPress], (m) => this.onPress(m)));
    this.releases.push(this.link.onOversized((p) => this.onOversized(p)));
  }

  async stop(): Promise<void> {
    for (const release of this.releases.splice(0)) await release();
  }

  /** True when the attempt was started by a command nobody authenticated: its face stays off MQTT. */
  startedUnsigned(commandId: string | undefined): boolean {
    return commandId !== undefined && this.unsignedIds.has(commandId);
  }

  private onCommand({ topic, payload, retained }: InboundMessage): void {
    const name = commandNameOf(this.topics, topic);
    if (name === null) return;
    if (payload.length === 0) {
      // An empty payload is how a retained message is deleted (we do it ourselves below): not a command.
      this.log.debug({ command: name }, 'mqtt: empty command payload ignored (retained message cleared)');
      return;
    }
    // Retained, or possibly retained: MQTT 3.1.1 strips the flag on live delivery, so over 3.1.1 every command
    // topic is cleared after use; a retained copy would otherwise come back at every reconnect.
    if (retained || this.link.protocolVersion() === 4) this.clearRetained(topic);
    let verdict: CommandVerdict;
    try {
      verdict = this.gate.check(name, payload, retained);
    } catch (error) {
      this.log.error({ err: error, command: name }, 'mqtt: command check failed; refusing');
      verdict = { ok: false, name, id: null, reason: 'internal error while checking the command' };
    }
    if (!verdict.ok) return this.refuse(verdict.name, verdict.id, verdict.reason);
    this.log.info({ command: verdict.name, commandId: verdict.id, signed: verdict.authenticated }, 'mqtt: command accepted');
    this.run({ name: verdict.name, id: verdict.id, authenticated: verdict.authenticated, transport: 'mqtt' });
  }

  /**
   * Home Assistant buttons send a fixed payload (no fresh id or ts to check), so a press can only ever do what
   * a push button does: start a verification (a face must still match) or re-read the gallery, never unlock.
   * They are unsigned: the unsigned budget applies, and mqtt.requireSignatures refuses them.
   */
  private onPress({ topic, payload, retained }: InboundMessage): void {
    // Empty = a retained press being deleted (by us, below): over 3.1.1 our own deletion comes back to us.
    if (payload.length === 0) return;
    const name: CommandName = topic === this.topics.reloadPress ? 'reload' : 'verify';
    const id = `press-${randomUUID()}`;
    if (retained) {
      this.clearRetained(topic);
      return this.refuse(name, id, 'retained: press ignored');
    }
    const at = this.options.now();
    if (at - (this.lastPressAt.get(name) ?? -Infinity) < this.options.pressMinIntervalMs) {
      return this.refuse(name, id, `rate limited: one press per ${this.options.pressMinIntervalMs} ms`);
    }
    const refusal = this.gate.unsignedRefusal(name);
    if (refusal) return this.refuse(name, id, refusal);
    this.lastPressAt.set(name, at);
    this.run({ name, id, authenticated: false, transport: 'mqtt' });
  }

  private onOversized(publish: OversizedPublish): void {
    const name = commandNameOf(this.topics, publish.topic);
    if (name === null) return;
    this.clearRetained(publish.topic);
    this.refuse(name, null, `too large: ${publish.bytes} bytes, over mqtt.maxPacketBytes; skipped unread`);
  }

  private run(command: Command): void {
    if (!command.authenticated) this.rememberUnsigned(command.id);
    this.port.execute(command).then(
      (reply) => this.publishResult(command.name, this.resultOf(command, reply)),
      (error: unknown) => {
        this.log.error({ err: error, command: command.name, commandId: command.id }, 'mqtt: command failed');
        this.refuse(command.name, command.id, `failed: ${error instanceof Error ? error.message : String(error)}`);
      },
    );
  }

  private resultOf(command: Command, reply: CommandReply): Result {
    const result: Result = reply.ok
      ? { id: command.id, command: command.name, ok: true }
      : { id: command.id, command: command.name, ok: false, reason: reply.reason };
    const attempt = reply.attempt;
    if (attempt && (command.name === 'verify' || command.name === 'unlock')) {
      result.attemptId = attempt.id;
      result.decision = attempt.decision;
      // Who stood at the door is for authenticated senders (or sites that chose to tell everyone).
      if (command.name === 'verify' && (command.authenticated || this.options.revealToUnsigned)) result.identity = attempt.identity;
    }
    return result;
  }

  private rememberUnsigned(id: string): void {
    this.unsignedIds.add(id);
    if (this.unsignedIds.size > UNSIGNED_IDS_KEPT) this.unsignedIds.delete(this.unsignedIds.values().next().value as string);
  }

  private clearRetained(topic: string): void {
    this.link.publish(topic, '', { qos: 1, retain: true }).catch(() => undefined);
  }

  private refuse(name: string, id: string | null, reason: string): void {
    this.log.warn({ command: name, commandId: id, reason }, 'mqtt: command refused');
    this.publishResult(name, { id, command: name, ok: false, reason });
  }

  private publishResult(name: string, result: Result): void {
    const payload = JSON.stringify({ ...result, ts: new Date(this.options.now()).toISOString() });
    // Results are not queued: a reply that arrives minutes later would only mislead the sender.
    this.link.publish(this.topics.result(name), payload, { qos: 1, retain: false }).catch((error: Error) => {
      this.log.warn({ command: name, commandId: result.id, reason: error.message }, 'mqtt: result not delivered');
    });
  }
}
