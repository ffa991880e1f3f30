export { HashRing, diffRings, DEFAULT_VIRTUAL_NODES } from './hash-ring.js';
export type {
  HashRingOptions,
  BoundedLoadOptions,
  MovedRange,
  HashRingSnapshot,
  Placement,
  PositionHash,
} from './hash-ring.js';
export { RendezvousHash } from './rendezvous.js';
export type { RendezvousHashOptions } from './rendezvous.js';
export { JumpHash, jumpHash } from './jump-hash.js';
export type { JumpHashOptions } from './jump-hash.js';
export { murmur3x86_128, murmur3x86_32 } from './murmur3.js';
export type { Key } from './key-bytes.js';
export type { NodeInput, NodeSpec } from './nodes.js';
export {
  EmptyRingError,
  DuplicateNodeError,
  InvalidWeightError,
  InvalidOptionsError,
  InsufficientNodesError,
  isEmptyRingError,
  isDuplicateNodeError,
  isInvalidWeightError,
  isInvalidOptionsError,
  isInsufficientNodesError,
  isHashRingError,
} from './errors.js';
export type { HashRingErrorCode } from './errors.js';
