/** Too few masters answered (down, paused, too slow) for a quorum: distinct from the lock being held. */
export class QuorumUnavailableError extends Error {
  readonly code = 'QUORUM_UNAVAILABLE' as const;
  override readonly name = 'QuorumUnavailableError';
  readonly key: string;
  /** Masters needed: ⌊N/2⌋+1. */
  readonly quorum: number;
  /** N. */
  readonly masters: number;
  /** Masters that answered at the last attempt (granted or refused). */
  readonly answered: number;
  /** Attempts made (0 for a single extend/release). */
  readonly attempts: number;

  constructor(init: { key: string; quorum: number; masters: number; answered: number; attempts: number; detail?: string; cause?: unknown }) {
    super(
      `lock "${init.key}": quorum unavailable, ${init.answered} of ${init.masters} masters answered usefully, ${init.quorum} needed` +
        `${init.attempts > 0 ? ` (${init.attempts} attempt${init.attempts === 1 ? '' : 's'})` : ''}${init.detail ? `: ${init.detail}` : ''}`,
      init.cause === undefined ? undefined : { cause: init.cause },
    );
    this.key = init.key;
    this.quorum = init.quorum;
    this.masters = init.masters;
    this.answered = init.answered;
    this.attempts = init.attempts;
  }
}

export function isQuorumUnavailableError(error: unknown): error is QuorumUnavailableError {
  return error instanceof Error && (error as { code?: unknown }).code === 'QUORUM_UNAVAILABLE';
}
