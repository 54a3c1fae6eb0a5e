import type { Settings } from '../config/index.js';

/** Every topic facegate uses for one door, derived from mqtt.baseTopic and deviceId. */
export interface Topics {
  /** `<baseTopic>/<deviceId>` */
  root: string;
  availability: string;
  state: string;
  attempt: string;
  snapshot: string;
  /** Subscription filter for the JSON commands: cmd/verify, cmd/unlock, cmd/reload (and unknown names, refused). */
  commandFilter: string;
  /** Home Assistant button target: a fixed payload that can only ever start a verification. */
  verifyPress: string;
  /** Where the Home Assistant lock sends its (unsigned) request; facegate never listens to it. */
  unlockRequest: string;
  /** Home Assistant's birth/will topic: discovery is republished when it says `online`. */
  homeAssistantStatus: string;
  command(name: string): string;
  result(name: string): string;
}

export const COMMAND_NAMES = ['verify', 'unlock', 'reload'] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];

export function topicsFor(settings: Pick<Settings, 'deviceId' | 'mqtt'>): Topics {
  const root = `${settings.mqtt.baseTopic}/${settings.deviceId}`;
  return {
    root,
    availability: `${root}/availability`,
    state: `${root}/state`,
    attempt: `${root}/attempt`,
    snapshot: `${root}/snapshot`,
    commandFilter: `${root}/cmd/+`,
    verifyPress: `${root}/cmd/verify/press`,
    unlockRequest: `${root}/cmd/unlock/request`,
    homeAssistantStatus: `${settings.mqtt.homeAssistant.prefix}/status`,
    command: (name) => `${root}/cmd/${name}`,
    result: (name) => `${root}/cmd/${name}/result`,
  };
}

/** The command name of a topic under cmd/, or null when the topic is not a plain command topic. */
export function commandNameOf(topics: Topics, topic: string): string | null {
  const prefix = `${topics.root}/cmd/`;
  if (!topic.startsWith(prefix)) return null;
  const name = topic.slice(prefix.length);
  return name === '' || name.includes('/') ? null : name;
}
