// Option validation shared by the pool and the limiter: every message names the option and its range.

export function integerOption(name: string, value: unknown, min: number, allowInfinity = false): number {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new TypeError(`${name} must be a number, got ${typeof value}`);
  }
  if (allowInfinity && value === Number.POSITIVE_INFINITY) return value;
  if (!Number.isInteger(value) || value < min) {
    const range = allowInfinity ? `an integer >= ${min} or Infinity` : `an integer >= ${min}`;
    throw new RangeError(`${name} must be ${range}, got ${value}`);
  }
  return value;
}

export function priorityOption(value: unknown): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new RangeError(`priority must be a finite number, got ${describe(value)}`);
  }
  return value;
}

export function timeoutOption(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !(value > 0) || value > 2_147_483_647) {
    throw new RangeError(`timeoutMs must be a number in (0, 2147483647], got ${describe(value)}`);
  }
  return value;
}

function describe(value: unknown): string {
  return typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean' ? String(value) : typeof value;
}
