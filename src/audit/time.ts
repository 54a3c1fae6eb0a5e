const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * A time bound for `facegate audit`: a duration back from now ("90m", "24h", "7d", "2w"),
 * a UTC date ("2026-11-29" = its midnight UTC) or any ISO-8601 time. Returns epoch ms.
 */
export function parseTimeBound(text: string, now: number = Date.now()): number {
  const trimmed = text.trim();
  const duration = /^(\d+(?:\.\d+)?)\s*([smhdw])$/i.exec(trimmed);
  if (duration) return now - Number(duration[1]) * UNIT_MS[duration[2]!.toLowerCase()]!;
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(trimmed);
  const time = Date.parse(dateOnly ? `${trimmed}T00:00:00Z` : trimmed);
  if (Number.isNaN(time)) {
    throw new Error(`cannot read "${text}" as a time: use a duration (30m, 24h, 7d), a date (2026-11-29) or an ISO time`);
  }
  return time;
}
