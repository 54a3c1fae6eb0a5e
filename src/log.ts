import pino, { type Logger } from 'pino';

export type { Logger };

/** Any field with one of these names is masked wherever it appears, up to three levels deep. */
const SECRET_FIELDS = ['password', 'secret', 'key', 'hmac', 'authorization', 'token'];
const redactPaths = SECRET_FIELDS.flatMap((f) => [f, `*.${f}`, `*.*.${f}`, `*.*.*.${f}`]);

export interface LogOptions {
  level?: string;
  /** "auto" = pretty only when stdout is a terminal. journald always gets JSON lines. */
  pretty?: 'auto' | 'always' | 'never';
  /** Where lines go; tests pass a stream to read them back. */
  destination?: NodeJS.WritableStream;
}

export function createLogger(options: LogOptions = {}): Logger {
  const base = {
    level: options.level ?? 'info',
    base: { app: 'facegate' },
    redact: { paths: redactPaths, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (options.destination) return pino(base, options.destination as pino.DestinationStream);
  const pretty = options.pretty === 'always' || (options.pretty !== 'never' && process.stdout.isTTY === true);
  if (pretty) {
    // One line per entry in a terminal: the multi-line default spread one attempt over 66 lines.
    return pino({ ...base, transport: { target: 'pino-pretty', options: {
      colorize: true, translateTime: 'SYS:HH:MM:ss.l', singleLine: true, ignore: 'pid,hostname,app,component', messageFormat: '{if component}{component}: {end}{msg}',
    } } });
  }
  // Synchronous writes so that the last lines before a crash or exit reach journald.
  return pino(base, pino.destination({ dest: 1, sync: true }));
}
