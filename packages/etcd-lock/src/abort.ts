/**
 * Settles with `work`, or rejects with the reason of the first of `signals` to abort.
 * `work` keeps running when a signal wins; its outcome is then ignored (never unhandled).
 */
export function raceAbort<T>(work: Promise<T>, signals: readonly (AbortSignal | undefined)[]): Promise<T> {
  const active = signals.filter((s): s is AbortSignal => s !== undefined);
  for (const signal of active) {
    if (signal.aborted) {
      work.catch(() => undefined);
      return Promise.reject(signal.reason as Error);
    }
  }
  if (active.length === 0) return work;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (event: Event): void => {
      cleanup();
      reject((event.target as AbortSignal).reason as Error);
    };
    const cleanup = (): void => {
      for (const signal of active) signal.removeEventListener('abort', onAbort);
    };
    for (const signal of active) signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        cleanup();
        resolve(value);
      },
      (error: unknown) => {
        cleanup();
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- pass the work's own rejection through unchanged
        reject(error);
      },
    );
  });
}

/** Resolves after `ms` (unref'd timer), or rejects when a signal aborts. */
export function delay(ms: number, signals: readonly (AbortSignal | undefined)[]): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const sleep = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
    timer.unref();
  });
  return raceAbort(sleep, signals).finally(() => clearTimeout(timer));
}
