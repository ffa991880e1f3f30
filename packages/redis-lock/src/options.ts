import { InvalidOptionsError } from './errors.js';

/** Throws InvalidOptionsError unless `value` is a finite number in [min, max] (and an integer when asked). */
export function checkNumber(
  option: string,
  value: unknown,
  range: { min: number; max?: number; integer?: boolean; exclusiveMin?: boolean },
): number {
  const max = range.max ?? Number.MAX_SAFE_INTEGER;
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (range.exclusiveMin ? value > range.min : value >= range.min) &&
    value <= max &&
    (!range.integer || Number.isInteger(value));
  if (!ok) {
    const kind = range.integer ? 'an integer' : 'a finite number';
    const lower = range.exclusiveMin ? `> ${range.min}` : `>= ${range.min}`;
    throw new InvalidOptionsError(option, `${kind} ${lower} and <= ${max}`, value);
  }
  return value;
}

export function checkFunction(option: string, value: unknown): void {
  if (typeof value !== 'function') throw new InvalidOptionsError(option, 'a function', value);
}

export function checkClock(option: string, value: unknown): void {
  if (typeof value !== 'object' || value === null || typeof (value as { now?: unknown }).now !== 'function') {
    throw new InvalidOptionsError(option, 'an object with a now(): number method', value);
  }
}
