export const INSTALL_HINT = 'apt-get update && apt-get install -y redis-server etcd-server';

/** A server binary is not on PATH. Tests never skip because of this: they fail with the fix. */
export class MissingServerBinaryError extends Error {
  readonly code = 'ERR_MISSING_SERVER_BINARY';
  constructor(readonly binary: string) {
    super(
      `${binary} was not found on PATH. Install the test servers with:\n  ${INSTALL_HINT}\n` +
        'or point the tests at running servers with BULWARK_REDIS_URLS / BULWARK_ETCD_ENDPOINTS.',
    );
    this.name = 'MissingServerBinaryError';
  }
}

/** A server process did not become ready, or exited while starting. */
export class ServerStartError extends Error {
  readonly code = 'ERR_SERVER_START';
  constructor(message: string, readonly logTail: string) {
    super(logTail ? `${message}\n--- last log lines ---\n${logTail}` : message);
    this.name = 'ServerStartError';
  }
}

export function isMissingServerBinaryError(error: unknown): error is MissingServerBinaryError {
  return error instanceof MissingServerBinaryError;
}
