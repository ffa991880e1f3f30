// One error class per failure a caller can act on, each with a stable `code`
// and a type guard (the guards check `code`, so they work across copies of
// the package).

/** Codes of every error this package throws on purpose. */
export type HashRingErrorCode =
  | 'ERR_HASHRING_EMPTY'
  | 'ERR_HASHRING_DUPLICATE_NODE'
  | 'ERR_HASHRING_INVALID_WEIGHT'
  | 'ERR_HASHRING_INVALID_OPTIONS'
  | 'ERR_HASHRING_INSUFFICIENT_NODES';

function hasCode(error: unknown, code: HashRingErrorCode): boolean {
  return error instanceof Error && (error as { code?: unknown }).code === code;
}

/** A lookup on a placement with no nodes. */
export class EmptyRingError extends Error {
  readonly code = 'ERR_HASHRING_EMPTY' as const;
  constructor(message = 'the ring has no nodes') {
    super(message);
    this.name = 'EmptyRingError';
  }
}

/** A node id given twice (in the constructor's `nodes` or to `add`). */
export class DuplicateNodeError extends Error {
  readonly code = 'ERR_HASHRING_DUPLICATE_NODE' as const;
  readonly nodeId: string;
  constructor(nodeId: string) {
    super(`node ${JSON.stringify(nodeId)} is already present`);
    this.name = 'DuplicateNodeError';
    this.nodeId = nodeId;
  }
}

/** A node weight that is not a finite number > 0. */
export class InvalidWeightError extends RangeError {
  readonly code = 'ERR_HASHRING_INVALID_WEIGHT' as const;
  readonly nodeId: string;
  readonly weight: unknown;
  constructor(nodeId: string, weight: unknown) {
    super(`weight of node ${JSON.stringify(nodeId)} must be a finite number > 0, got ${String(weight)}`);
    this.name = 'InvalidWeightError';
    this.nodeId = nodeId;
    this.weight = weight;
  }
}

/** An option outside its accepted range (the message names the option and the range). */
export class InvalidOptionsError extends RangeError {
  readonly code = 'ERR_HASHRING_INVALID_OPTIONS' as const;
  readonly option: string;
  constructor(option: string, expected: string, got: unknown) {
    super(`option ${option} must be ${expected}, got ${typeof got === 'string' ? JSON.stringify(got) : String(got)}`);
    this.name = 'InvalidOptionsError';
    this.option = option;
  }
}

/** `replicas(key, count)` asked for more distinct nodes than the placement has. */
export class InsufficientNodesError extends RangeError {
  readonly code = 'ERR_HASHRING_INSUFFICIENT_NODES' as const;
  readonly requested: number;
  readonly available: number;
  constructor(requested: number, available: number) {
    super(`asked for ${requested} distinct nodes but only ${available} are present`);
    this.name = 'InsufficientNodesError';
    this.requested = requested;
    this.available = available;
  }
}

export function isEmptyRingError(error: unknown): error is EmptyRingError {
  return hasCode(error, 'ERR_HASHRING_EMPTY');
}
export function isDuplicateNodeError(error: unknown): error is DuplicateNodeError {
  return hasCode(error, 'ERR_HASHRING_DUPLICATE_NODE');
}
export function isInvalidWeightError(error: unknown): error is InvalidWeightError {
  return hasCode(error, 'ERR_HASHRING_INVALID_WEIGHT');
}
export function isInvalidOptionsError(error: unknown): error is InvalidOptionsError {
  return hasCode(error, 'ERR_HASHRING_INVALID_OPTIONS');
}
export function isInsufficientNodesError(error: unknown): error is InsufficientNodesError {
  return hasCode(error, 'ERR_HASHRING_INSUFFICIENT_NODES');
}

/** True for any error this package throws on purpose. */
export function isHashRingError(
  error: unknown,
): error is EmptyRingError | DuplicateNodeError | InvalidWeightError | InvalidOptionsError | InsufficientNodesError {
  return (
    isEmptyRingError(error) ||
    isDuplicateNodeError(error) ||
    isInvalidWeightError(error) ||
    isInvalidOptionsError(error) ||
    isInsufficientNodesError(error)
  );
}
