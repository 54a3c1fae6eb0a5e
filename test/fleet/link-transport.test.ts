import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linkTransport, type SharedLink } from '../../src/fleet/link-transport.js';

/** A hub-shaped link that records registrations and releases. */
function fakeLink() {
  const handlers = new Map<string, (m: { topic: string; payload: Buffer; retained: boolean }) => void>();
  const hooks = new Set<() => Promise<void> | void>();
  const released: string[] = [];
  const link: SharedLink = {
    connected: () => true,
    publish: async () => undefined,
    subscribe: async (filters, handler) => {
      handlers.set(filters.join(), handler);
      return async () => void (handlers.delete(filters.join()), released.push(filters.join()));
    },
    onConnect: (hook) => {
      hooks.add(hook);
      return async () => void hooks.delete(hook);
    },
  };
  return { link, handlers, hooks, released, reconnect: () => [...hooks].forEach((h) => void h()) };
}

test('on the shared connection: one registration per filter (the hub restores it), hooks at connect and at once, all released on close', async () => {
  const f = fakeLink();
  const transport = linkTransport(f.link);
  const seen: string[] = [];
  transport.onMessage((topic, payload) => seen.push(`${topic}=${payload}`));
  let connects = 0;
  transport.onConnect(() => void connects++);
  assert.equal(connects, 1, 'already connected: the hook runs at once');
  await transport.subscribe(['site/_site/gallery/+']);
  await transport.subscribe(['site/_site/gallery/+']);
  assert.equal(f.handlers.size, 1);
  f.handlers.get('site/_site/gallery/+')!({ topic: 'site/_site/gallery/x', payload: Buffer.from('1'), retained: true });
  assert.deepEqual(seen, ['site/_site/gallery/x=1']);
  f.reconnect();
  assert.equal(connects, 2);
  await transport.close();
  assert.deepEqual(f.released, ['site/_site/gallery/+']);
  assert.equal(f.hooks.size, 0);
});
