const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
type Unit = keyof typeof UNIT_MS;

/** A DSL duration: a number and a unit, e.g. "250ms", "90s", "10m", "2h", "1d". */
export const DURATION_PATTERN = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

const isUnit = (u: string | undefined): u is Unit => u !== undefined && Object.hasOwn(UNIT_MS, u);

/** Milliseconds in a DSL duration, e.g. `toMillis('10m') === 600000`. */
export function toMillis(duration: string): number {
  const m = DURATION_PATTERN.exec(duration.trim());
  const unit = m?.[2];
  if (!m || !isUnit(unit)) throw new RangeError(`'${duration}' is not a duration such as 90s, 10m, 2h or 1d`);
  return Math.round(Number(m[1]) * UNIT_MS[unit]);
}
