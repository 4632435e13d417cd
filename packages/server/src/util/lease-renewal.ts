/**
 * Runs `work` while renewing a lease every `everyMs`, so that slow work (a vendor paced to a few
 * requests a second) does not outlive the lease and get done twice by whoever takes it over.
 * A renewal that fails is reported and tried again at the next tick; the holder finds out it lost
 * the lease when it next commits.
 */
export async function withLeaseRenewal<T>(work: () => Promise<T>, everyMs: number, renew: () => Promise<unknown>, onError: (err: unknown) => void): Promise<T> {
  let renewing: Promise<unknown> | null = null;
  const timer = setInterval(() => {
    if (renewing) return;
    renewing = renew()
      .catch(onError)
      .finally(() => (renewing = null));
  }, Math.max(10, everyMs));
  timer.unref();
  try {
    return await work();
  } finally {
    clearInterval(timer);
    await renewing;
  }
}
