/** A numeric command-line option checked against its range; benchmarks refuse to run on a typo. */
export function numberOption(values: Record<string, unknown>, name: string, min: number, max: number, integer = false): number {
  const v = Number(values[name]);
  const ok = integer ? Number.isInteger(v) : Number.isFinite(v);
  if (!ok || v < min || v > max) throw new Error(`--${name} must be ${integer ? 'an integer' : 'a number'} in ${min}..${max}`);
  return v;
}
