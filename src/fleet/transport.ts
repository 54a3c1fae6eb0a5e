/**
 * What the fleet needs from a broker connection: publish, subscribe, and hear messages and (re)connects.
 * The fleet never imports an MQTT library; mqtt-transport.ts adapts one, tests can pass their own.
 */
export interface FleetTransport {
  publish(topic: string, payload: string | Buffer, options: { qos: 0 | 1; retain: boolean }): Promise<void>;
  subscribe(filters: string[]): Promise<void>;
  unsubscribe(filters: string[]): Promise<void>;
  /** Every message; returns a function that stops listening. */
  onMessage(listener: (topic: string, payload: Buffer, retained: boolean) => void): () => void;
  /** Called at each (re)connect, and at once when connected already; subscriptions belong here. */
  onConnect(listener: () => void): () => void;
  connected(): boolean;
  close(): Promise<void>;
}
