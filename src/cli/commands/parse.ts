import { InvalidArgumentError } from 'commander';

/** An option's value as a whole number from 1 to 10,000. */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new InvalidArgumentError('a whole number from 1 to 10000');
  return n;
}

/** An option's value as seconds, from 1 to a week. */
export function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 7 * 86_400) throw new InvalidArgumentError('whole seconds, 1 to 604800');
  return n;
}
