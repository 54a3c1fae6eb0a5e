/**
 * The project's error vocabulary: a message for people, a machine-readable `code` for programs (MQTT.js's
 * ErrorWithReasonCode habit), and the `cause` kept. One table maps each code to the process exit code, so
 * `facegate` exits the same way for the same kind of failure whichever command hit it.
 */

/** What kind of failure; programs branch on this, never on message text. */
export type ErrorCode =
  /** A setting is missing or wrong: restarting cannot help (systemd's RestartPreventExitStatus). */
  | 'config'
  /** The command line itself is wrong (unknown command). */
  | 'usage'
  /** Input data could not be used (a corrupt image, a malformed file). */
  | 'data'
  /** Something the command needs is not there or not answering (daemon not running, broker down). */
  | 'unavailable'
  /** Reading or writing a file or device failed. */
  | 'io'
  /** A bug or crash: systemd restarts on it. */
  | 'software'
  /** A graceful stop hung and the hard-exit timer ended the process. */
  | 'stop_hung'
  /** The command could not do what was asked (a missing folder, nobody enrolled): the plain failure. */
  | 'failed';

/**
 * Exit codes, sysexits(3) where one fits. 78 (EX_CONFIG) is in the unit's RestartPreventExitStatus; 70 is
 * what a crash exits with so Restart=on-failure brings the daemon back.
 */
export const EXIT_CODES: Readonly<Record<ErrorCode, number>> = {
  usage: 64,
  data: 65,
  unavailable: 69,
  software: 70,
  io: 74,
  config: 78,
  stop_hung: 1,
  failed: 1,
};

/** Base of every error facegate raises on purpose. */
export class FacegateError extends Error {
  constructor(readonly code: ErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FacegateError';
  }

  get exitCode(): number {
    return EXIT_CODES[this.code];
  }
}

/** The exit code for an error a command threw: a FacegateError's own, else the plain failure (1). */
export function exitCodeOf(error: unknown): number {
  return error instanceof FacegateError ? error.exitCode : EXIT_CODES.failed;
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
