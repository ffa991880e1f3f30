import { describe, expect, it } from 'vitest';
import type { Membership } from './conf-change.js';
import { applyConfChange, confStateOf, decodeConfChange, encodeConfChange, membershipFromConfState } from './conf-change.js';
import { isConfChangeError } from './errors.js';
import { emptyConfState } from './types.js';

const base = (): Membership => membershipFromConfState({ ...emptyConfState(), voters: [1, 2, 3] });

function expectConfChangeError(fn: () => unknown, re: RegExp): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(isConfChangeError(err)).toBe(true);
  expect(String(err)).toMatch(re);
}

describe('conf changes', () => {
  it('round-trips through entry data', () => {
    const cc = { changes: [{ type: 'addLearner' as const, nodeId: 4 }], transition: 'explicit' as const };
    expect(decodeConfChange(encodeConfChange(cc))).toEqual(cc);
    expectConfChangeError(() => decodeConfChange(new TextEncoder().encode('{')), /malformed/);
  });

  it('applies a single-server change directly', () => {
    const m = applyConfChange(base(), { changes: [{ type: 'addNode', nodeId: 4 }] });
    expect(confStateOf(m)).toMatchObject({ voters: [1, 2, 3, 4], votersOutgoing: [] });
  });

  it('promotes a learner and demotes a voter', () => {
    let m = applyConfChange(base(), { changes: [{ type: 'addLearner', nodeId: 4 }] });
    expect(confStateOf(m)).toMatchObject({ voters: [1, 2, 3], learners: [4] });
    m = applyConfChange(m, { changes: [{ type: 'addNode', nodeId: 4 }] });
    expect(confStateOf(m)).toMatchObject({ voters: [1, 2, 3, 4], learners: [] });
  });

  it('enters and leaves a joint configuration for multi-voter changes', () => {
    const joint = applyConfChange(base(), {
      changes: [
        { type: 'addNode', nodeId: 4 },
        { type: 'removeNode', nodeId: 1 },
      ],
    });
    expect(confStateOf(joint)).toMatchObject({ voters: [2, 3, 4], votersOutgoing: [1, 2, 3], autoLeave: true });
    expectConfChangeError(() => applyConfChange(joint, { changes: [{ type: 'addNode', nodeId: 5 }] }), /must be left/);
    const left = applyConfChange(joint, { changes: [] });
    expect(confStateOf(left)).toMatchObject({ voters: [2, 3, 4], votersOutgoing: [], autoLeave: false });
    expectConfChangeError(() => applyConfChange(left, { changes: [] }), /not in one/);
  });

  it('demoting an outgoing voter stages it as a learner until the joint config is left', () => {
    const joint = applyConfChange(base(), { changes: [{ type: 'addLearner', nodeId: 3 }], transition: 'explicit' });
    expect(confStateOf(joint)).toMatchObject({ voters: [1, 2], votersOutgoing: [1, 2, 3], learnersNext: [3], learners: [] });
    expect(confStateOf(applyConfChange(joint, { changes: [] }))).toMatchObject({ voters: [1, 2], learners: [3], learnersNext: [] });
  });

  it('refuses to remove every voter and rejects bad ids', () => {
    expect.assertions(4);
    expectConfChangeError(
      () => applyConfChange(membershipFromConfState({ ...emptyConfState(), voters: [1] }), { changes: [{ type: 'removeNode', nodeId: 1 }] }),
      /all voters/,
    );
    expectConfChangeError(() => applyConfChange(base(), { changes: [{ type: 'addNode', nodeId: 0 }] }), /invalid node id/);
  });
});
