import type { Settings } from '../config/index.js';
import { COMMAND_NAMES, type CommandName } from '../core/commands.js';

export { COMMAND_NAMES, type CommandName };

/** Every topic facegate uses for one door, derived from mqtt.baseTopic and deviceId. */
export interface Topics {
  /** `<baseTopic>/<deviceId>` */
  root: string;
  availability: string;
  state: string;
  attempt: string;
  snapshot: string;
  /** Subscription filters for the JSON commands: cmd/+ (verify, unlock, reload, and unknown names, refused) and cmd/lockout/clear. */
  commandFilters: string[];
  /** Home Assistant button target: a fixed payload that can only ever start a verification. */
  verifyPress: string;
  /** Home Assistant button target: a fixed payload that re-reads the gallery. */
  reloadPress: string;
  /** Where the Home Assistant lock sends its (unsigned) request; facegate never listens to it. */
  unlockRequest: string;
  /** Where the Home Assistant "clear lockout" button sends its (unsigned) request; facegate never listens to it. */
  lockoutClearRequest: string;
  /** Home Assistant's birth/will topic: discovery is republished when it says `online`. */
  homeAssistantStatus: string;
  command(name: string): string;
  result(name: string): string;
}

/** `lockout-clear` lives at cmd/lockout/clear; every other command at cmd/<name>. */
const commandPath = (name: string) => (name === 'lockout-clear' ? 'lockout/clear' : name);

export function topicsFor(settings: Pick<Settings, 'deviceId' | 'mqtt'>): Topics {
  const root = `${settings.mqtt.baseTopic}/${settings.deviceId}`;
  const command = (name: string) => `${root}/cmd/${commandPath(name)}`;
  return {
    root,
    availability: `${root}/availability`,
    state: `${root}/state`,
    attempt: `${root}/attempt`,
    snapshot: `${root}/snapshot`,
    commandFilters: [`${root}/cmd/+`, command('lockout-clear')],
    verifyPress: `${root}/cmd/verify/press`,
    reloadPress: `${root}/cmd/reload/press`,
    unlockRequest: `${root}/cmd/unlock/request`,
    lockoutClearRequest: `${root}/cmd/lockout/clear/request`,
    homeAssistantStatus: `${settings.mqtt.homeAssistant.prefix}/status`,
    command,
    result: (name) => `${command(name)}/result`,
  };
}

/** The command name of a topic under cmd/, or null when the topic is not a command topic. */
export function commandNameOf(topics: Topics, topic: string): string | null {
  const prefix = `${topics.root}/cmd/`;
  if (!topic.startsWith(prefix)) return null;
  const name = topic.slice(prefix.length);
  if (name === 'lockout/clear') return 'lockout-clear';
  return name === '' || name.includes('/') ? null : name;
}
