// Option checks shared by the breaker and its helpers: every bad option is a
// TypeError (wrong type) or RangeError (out of range) naming the option and the accepted range.

export function checkObject(name: string, value: unknown): void {
  if (typeof value !== 'object' || value === null) throw new TypeError(`${name} must be an object, got ${describe(value)}`);
}

export function checkFunction(name: string, value: unknown): void {
  if (typeof value !== 'function') throw new TypeError(`${name} must be a function, got ${describe(value)}`);
}

export function checkBoolean(name: string, value: unknown): void {
  if (typeof value !== 'boolean') throw new TypeError(`${name} must be a boolean, got ${describe(value)}`);
}

export function checkInteger(name: string, value: unknown, min: number, max: number): void {
  if (typeof value !== 'number') throw new TypeError(`${name} must be a number, got ${describe(value)}`);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
}

/** A finite number > min (exclusive) or >= min (inclusive). `allowInfinity` admits Infinity. */
export function checkNumber(
  name: string,
  value: unknown,
  range: { min: number; exclusiveMin?: boolean; max?: number; allowInfinity?: boolean },
): void {
  if (typeof value !== 'number') throw new TypeError(`${name} must be a number, got ${describe(value)}`);
  const { min, exclusiveMin = false, max = Number.POSITIVE_INFINITY, allowInfinity = false } = range;
  const finiteOk = Number.isFinite(value) || (allowInfinity && value === Number.POSITIVE_INFINITY);
  const aboveMin = exclusiveMin ? value > min : value >= min;
  if (!finiteOk || !aboveMin || value > max) {
    const lower = exclusiveMin ? `greater than ${min}` : `at least ${min}`;
    const upper = max === Number.POSITIVE_INFINITY ? (allowInfinity ? ' (Infinity allowed)' : ' and finite') : ` and at most ${max}`;
    throw new RangeError(`${name} must be a number ${lower}${upper}, got ${value}`);
  }
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? `the string "${value}"` : typeof value;
}
