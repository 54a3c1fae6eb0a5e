/** One line of `facegate doctor`: what was checked, how it went, and what to do about it. */
export interface CheckResult {
  /** Stable id, e.g. "camera-frames"; --json consumers key on it. */
  name: string;
  status: 'pass' | 'fail' | 'skip';
  /** What was found (a path, fps, pin numbers). */
  detail: string;
  /** What to do when it failed. */
  fix?: string;
  /** Measured values, for --json. */
  data?: Record<string, unknown>;
}

export const pass = (name: string, detail: string, data?: Record<string, unknown>): CheckResult => ({ name, status: 'pass', detail, ...(data ? { data } : {}) });
export const fail = (name: string, detail: string, fix: string, data?: Record<string, unknown>): CheckResult => ({ name, status: 'fail', detail, fix, ...(data ? { data } : {}) });
export const skip = (name: string, detail: string): CheckResult => ({ name, status: 'skip', detail });

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
