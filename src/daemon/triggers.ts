import type { Logger } from '../log.js';

/** Stops a trigger source; safe to call more than once. */
export type StopTrigger = () => void;

/** The parts of a terminal the keyboard trigger needs (process.stdin, or a fake in tests). */
export interface KeyInput {
  isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
  setEncoding(encoding: BufferEncoding): unknown;
  resume(): unknown;
  pause(): unknown;
  on(event: 'data', listener: (chunk: string | Buffer) => void): unknown;
  off(event: 'data', listener: (chunk: string | Buffer) => void): unknown;
}

export interface KeyHandlers {
  /** Key "v": one press of the simulated button. */
  verify(): void;
  /** Key "q" (or Ctrl-C, which raw mode swallows): the same as SIGTERM. */
  quit(): void;
}

/**
 * Keys in a foreground terminal, as in the seed tutorial's OpenCV window. Raw mode only when the input
 * is a terminal, so under systemd (no TTY) stdin is left alone. Returns null when not started.
 */
export function startKeyboard(input: KeyInput, handlers: KeyHandlers, log: Logger): StopTrigger | null {
  if (input.isTTY !== true || typeof input.setRawMode !== 'function') return null;
  input.setRawMode(true);
  input.setEncoding('utf8');
  input.resume();
  const onData = (chunk: string | Buffer) => {
    for (const key of chunk.toString()) {
      if (key === 'v' || key === 'V') handlers.verify();
      else if (key === 'q' || key === 'Q' || key === '\u0003' || key === '\u0004') handlers.quit();
    }
  };
  input.on('data', onData);
  log.info('keyboard: press "v" to verify (the simulated button), "q" to quit');
  let stopped = false;
  return () => {
    if (stopped) return;
    stopped = true;
    input.off('data', onData);
    input.setRawMode?.(false);
    input.pause();
  };
}

/** The parts of `process` the signal trigger needs. */
export interface SignalSource {
  on(signal: NodeJS.Signals, listener: () => void): unknown;
  off(signal: NodeJS.Signals, listener: () => void): unknown;
}

/**
 * `kill -USR1 <pid>` = one press. A listener must stay installed for as long as the daemon runs: without
 * one, Node starts its inspector on SIGUSR1.
 */
export function onSignalPress(signal: NodeJS.Signals, press: () => void, source: SignalSource = process): StopTrigger {
  source.on(signal, press);
  return () => void source.off(signal, press);
}
