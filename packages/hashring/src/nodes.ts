// Node descriptions shared by every placement (ring, rendezvous, jump).
import { InvalidOptionsError, InvalidWeightError } from './errors.js';

/** A node with a relative weight (default 1): weight 2 owns about twice the keys of weight 1. */
export interface NodeSpec {
  id: string;
  weight?: number;
}

/** A node as given to a constructor or `add`: its id, or `{ id, weight }`. */
export type NodeInput = string | NodeSpec;

/** Validates one node description and returns its id and weight. */
export function normalizeNode(input: NodeInput, option: string): { id: string; weight: number } {
  const id = typeof input === 'string' ? input : (input as NodeSpec | null)?.id;
  if (typeof id !== 'string' || id.length === 0) {
    throw new InvalidOptionsError(`${option}.id`, 'a non-empty string', id);
  }
  const weight = typeof input === 'string' ? 1 : (input.weight ?? 1);
  if (typeof weight !== 'number' || !Number.isFinite(weight) || weight <= 0) {
    throw new InvalidWeightError(id, weight);
  }
  return { id, weight };
}

/** The `(a, b) => -1 | 0 | 1` order on node ids: UTF-16 code units, the same in every process. */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
