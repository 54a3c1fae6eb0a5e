import type { AttemptEvent } from './events.js';

/**
 * The inbound command port: how any transport (MQTT today, a web page or a second transport later) asks the
 * door to do something. A transport checks the message (format, age, replay, signature) and hands over a
 * `Command`; the daemon executes it through this port and never learns which wire it came from beyond the
 * `transport` label that ends up in the attempt's trigger. Adding a transport means implementing the
 * checking side and calling `execute`: no daemon change.
 */
export const COMMAND_NAMES = ['verify', 'unlock', 'reload', 'lockout-clear'] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];

/** Commands that move the door or lift a safety measure: only ever accepted when authenticated. */
export const SIGNED_ONLY: ReadonlySet<CommandName> = new Set(['unlock', 'lockout-clear']);

export function isCommandName(name: string): name is CommandName {
  return (COMMAND_NAMES as readonly string[]).includes(name);
}

/** Which transport carried a command; it becomes the attempt's trigger for `verify`. */
export type CommandTransport = 'mqtt';

export interface Command {
  name: CommandName;
  /** The sender's id for this command (unique; echoed in the reply, recorded on the attempt). */
  id: string;
  /** True when the transport proved who sent it (a valid HMAC over MQTT). */
  authenticated: boolean;
  transport: CommandTransport;
}

export type CommandReply =
  | { ok: true; attempt?: AttemptEvent }
  /** `attempt` is set when the door acted and it failed (e.g. a remote unlock whose pulse failed). */
  | { ok: false; reason: string; attempt?: AttemptEvent };

/** Implemented by the daemon; every transport calls it. It never throws: failures come back as replies. */
export interface CommandPort {
  execute(command: Command): Promise<CommandReply>;
}
