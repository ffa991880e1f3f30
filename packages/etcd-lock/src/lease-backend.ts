import type { Etcd3, ILeaseKeepAliveResponse } from 'etcd3';

/**
 * The three lease RPCs a session needs. The session's keep-alive and loss logic is
 * written against this seam so unit tests can drive it with a fake and a fake clock.
 * Deadlines are wall-clock epoch milliseconds, as gRPC wants them.
 */
export interface LeaseBackend {
  grant(ttlSeconds: number, deadline: number): Promise<{ id: string; ttlSeconds: number }>;
  /** Resolves with the remaining TTL in seconds; 0 (or less) means etcd no longer knows the lease. */
  keepAlive(id: string, deadline: number): Promise<number>;
  revoke(id: string, deadline: number): Promise<void>;
}

export function etcdLeaseBackend(client: Etcd3): LeaseBackend {
  const leases = client.leaseClient;
  return {
    async grant(ttlSeconds, deadline) {
      const response = await leases.leaseGrant({ TTL: ttlSeconds, ID: 0 }, { deadline });
      if (response.error) throw new Error(response.error);
      return { id: response.ID, ttlSeconds: Number(response.TTL) };
    },
    async keepAlive(id, deadline) {
      // One short-lived stream per keep-alive: each renewal gets its own deadline, so a
      // cluster without a leader shows up as a failed renewal instead of a silent stall.
      const stream = await leases.leaseKeepAlive({ deadline });
      return new Promise<number>((resolve, reject) => {
        let settled = false;
        const settle = (fn: () => void): void => {
          if (settled) return;
          settled = true;
          clearTimeout(guard);
          fn();
          try {
            stream.end();
          } catch {
            // the stream may already be closed by the error that settled us
          }
        };
        // gRPC enforces the deadline; this guard only covers a stream that never reports.
        const guard = setTimeout(
          () => settle(() => reject(new Error('keep-alive deadline exceeded'))),
          Math.max(1, deadline - Date.now() + 50),
        );
        guard.unref();
        stream.on('data', (response: ILeaseKeepAliveResponse) => settle(() => resolve(Number(response.TTL))));
        stream.on('error', (error: Error) => settle(() => reject(error)));
        stream.on('end', () => settle(() => reject(new Error('keep-alive stream ended without a response'))));
        stream.write({ ID: id });
      });
    },
    async revoke(id, deadline) {
      try {
        await leases.leaseRevoke({ ID: id }, { deadline });
      } catch (error) {
        // Already expired or revoked: the outcome the caller wanted.
        if (isLeaseNotFound(error)) return;
        throw error;
      }
    },
  };
}

/** etcd's "requested lease not found" (etcd3 maps it to EtcdLeaseInvalidError). */
export function isLeaseNotFound(error: unknown): boolean {
  return (
    error instanceof Error &&
    (error.constructor.name === 'EtcdLeaseInvalidError' || /lease not found/i.test(error.message))
  );
}
