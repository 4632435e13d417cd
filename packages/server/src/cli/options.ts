import { InvalidArgumentError } from 'commander';

/** A whole-number option value. */
export function int(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a whole number');
  return Number(value);
}
