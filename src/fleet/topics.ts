import type { Settings } from '../config/index.js';

/**
 * The fleet's topics. A site is every door under one mqtt.baseTopic: the doors' own topics already live
 * under `<base>/<deviceId>/`, so `<base>/+/attempt` is every door's attempts. The site gallery sits beside
 * them under `<base>/_site/`, a name no default device id can take (device ids are hostnames).
 */
export const SITE_SEGMENT = '_site';

export interface FleetTopics {
  base: string;
  /** Subscription filter for every person's retained entry. */
  galleryFilter: string;
  person(pid: string): string;
  /** The person id of a gallery topic, or null when the topic is not one. */
  pidOf(topic: string): string | null;
  /** This (or any) door's retained fleet state. */
  doorFleet(deviceId: string): string;
  attemptFilter: string;
  availabilityFilter: string;
  stateFilter: string;
  fleetFilter: string;
  /** The device id of `<base>/<deviceId>/<leaf>`, or null. */
  deviceOf(topic: string, leaf: string): string | null;
}

export function fleetTopics(settings: Pick<Settings, 'mqtt'>): FleetTopics {
  const base = settings.mqtt.baseTopic;
  const galleryPrefix = `${base}/${SITE_SEGMENT}/gallery/`;
  return {
    base,
    galleryFilter: `${galleryPrefix}+`,
    person: (pid) => `${galleryPrefix}${pid}`,
    pidOf: (topic) => {
      if (!topic.startsWith(galleryPrefix)) return null;
      const pid = topic.slice(galleryPrefix.length);
      return /^[0-9a-f]{32}$/.test(pid) ? pid : null;
    },
    doorFleet: (deviceId) => `${base}/${deviceId}/fleet`,
    attemptFilter: `${base}/+/attempt`,
    availabilityFilter: `${base}/+/availability`,
    stateFilter: `${base}/+/state`,
    fleetFilter: `${base}/+/fleet`,
    deviceOf: (topic, leaf) => {
      const prefix = `${base}/`;
      if (!topic.startsWith(prefix) || !topic.endsWith(`/${leaf}`)) return null;
      const device = topic.slice(prefix.length, topic.length - leaf.length - 1);
      return device && !device.includes('/') && device !== SITE_SEGMENT ? device : null;
    },
  };
}
