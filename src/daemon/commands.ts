import type { Command, CommandPort, CommandReply } from '../core/commands.js';
import { errorText } from '../core/errors.js';
import type { Logger } from '../log.js';
import type { Door, Refusal } from './door.js';

/** Why a press was refused, in words a command reply can carry. */
export function refusalText(reason: Refusal, lockedOutUntil: string | null): string {
  return `the door is ${reason.replace('_', ' ')}${lockedOutUntil ? ` until ${lockedOutUntil}` : ''}`;
}

/**
 * The daemon's command port: commands that a transport (MQTT today) already checked for format, age, replay
 * and signature. Transport-neutral: a web page or a second transport calls the same execute(). Commands that
 * move the door or lift a safety measure are refused here too when unauthenticated, whatever the transport.
 */
export function daemonCommandPort(door: Door, reload: (origin: string) => Promise<{ ok: true } | { refused: string }>, log: Logger): CommandPort {
  const run = async (command: Command): Promise<CommandReply> => {
    switch (command.name) {
      case 'verify': {
        const outcome = await door.trigger(command.transport, command.id, { unauthenticated: !command.authenticated });
        return outcome.accepted ? { ok: true, attempt: outcome.event } : { ok: false, reason: refusalText(outcome.reason, outcome.lockedOutUntil) };
      }
      case 'unlock': {
        if (!command.authenticated) return { ok: false, reason: 'unsigned: remote unlock needs a signature' };
        if (door.getPhase() === 'stopped') return { ok: false, reason: 'the door is stopping' };
        const { event } = door.unlock(command.id);
        return event.decision === 'granted' ? { ok: true, attempt: event } : { ok: false, reason: event.reason ?? 'the relay pulse failed', attempt: event };
      }
      case 'reload': {
        // The daemon's one reload (also SIGHUP and `facegate reload`): the state with the new counts follows.
        const result = await reload(`${command.transport} command ${command.id}`);
        return 'refused' in result ? { ok: false, reason: result.refused } : { ok: true };
      }
      case 'lockout-clear': {
        if (!command.authenticated) return { ok: false, reason: 'unsigned: clearing a lockout needs a signature' };
        if (door.getPhase() === 'stopped') return { ok: false, reason: 'the door is stopping' };
        door.clearLockout(`${command.transport} command ${command.id}`);
        return { ok: true };
      }
    }
  };
  return {
    async execute(command) {
      try {
        return await run(command);
      } catch (error) {
        log.error({ err: error, command: command.name, commandId: command.id }, 'command failed');
        return { ok: false, reason: `failed: ${errorText(error)}` };
      }
    },
  };
}
