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
