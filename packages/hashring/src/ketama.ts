// libketama's continuum, as the `hashring` npm package (3.x) builds it:
//  - a node with weight w among n nodes of total weight W gets
//    floor(w / W * hashesPerNode * n) md5 digests of `${id}-${i}`;
//  - each digest gives `pointsPerHash` (4) ring points, the little-endian
//    uint32 at byte offsets 0, 4, 8, 12;
//  - a key sits at the little-endian uint32 of its md5's first 4 bytes and
//    belongs to the first point >= it, wrapping to the first point;
//  - equal points keep the order the nodes were added in (a stable sort).
// Floating-point expressions are evaluated in the same order as there, so the
// point counts (including floor(39.999…) = 39 cases) are identical.
import { hash } from 'node:crypto';

/** Ring position of key bytes in ketama mode. */
export function ketamaKeyPosition(bytes: Uint8Array): number {
  const digest = hash('md5', bytes, 'buffer');
  return digest.readUInt32LE(0);
}

/** Number of md5 digests (each giving `pointsPerHash` points) a node gets. */
export function ketamaHashCount(weight: number, totalWeight: number, hashesPerNode: number, nodeCount: number): number {
  const percentage = weight / totalWeight;
  return Math.floor(percentage * hashesPerNode * nodeCount);
}

/** Calls `emit(position)` for every ketama point of node `id`. */
export function ketamaNodePoints(id: string, hashCount: number, pointsPerHash: number, emit: (position: number) => void): void {
  for (let i = 0; i < hashCount; i++) {
    const digest = hash('md5', `${id}-${i}`, 'buffer');
    for (let j = 0; j < pointsPerHash; j++) emit(digest.readUInt32LE(j * 4));
  }
}
