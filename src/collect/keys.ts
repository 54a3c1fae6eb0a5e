/**
 * Single keypresses from a terminal, without Enter: raw mode on stdin. Works over SSH (the remote side is a
 * pty) and needs no GUI. Ctrl-C and Ctrl-D arrive as keys in raw mode, so they are mapped to "quit" here.
 */
export type KeyHandler = (key: string) => void;

const CTRL_C = '\u0003';
const CTRL_D = '\u0004';

export function listenForKeys(input: NodeJS.ReadStream, onKey: KeyHandler): () => void {
  if (!input.isTTY) throw new Error('keys need a terminal (stdin is not a TTY)');
  input.setRawMode(true);
  input.setEncoding('utf8');
  const onData = (chunk: string) => {
    for (const char of chunk) onKey(char === CTRL_C || char === CTRL_D ? 'quit' : char.toLowerCase());
  };
  input.on('data', onData);
  input.resume();
  return () => {
    input.off('data', onData);
    input.setRawMode(false);
    input.pause();
  };
}

/**
 * A capture loop on single keys: each key of `actions` starts its capture, one at a time (a key pressed while
 * one is being written calls `onBusy`); q, Ctrl-C or Ctrl-D ends the loop once the capture in flight is
 * written, so quitting never leaves half a file behind. Actions report their own failures (they must not reject).
 */
export function captureKeys(input: NodeJS.ReadStream, actions: Record<string, () => Promise<void>>, onBusy: () => void): Promise<void> {
  return new Promise((resolve) => {
    let pending: Promise<void> | null = null;
    const stop = listenForKeys(input, (key) => {
      if (key === 'q' || key === 'quit') {
        stop();
        void (pending ?? Promise.resolve()).then(resolve);
        return;
      }
      const action = Object.hasOwn(actions, key) ? actions[key] : undefined;
      if (!action) return;
      if (pending) return onBusy();
      pending = action().finally(() => {
        pending = null;
      });
    });
  });
}
