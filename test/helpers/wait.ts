/**
 * Polls `fn` until it returns a value (anything but undefined) and returns it; throws, naming `what`, when
 * `timeoutMs` has passed.
 */
export async function waitFor<T>(
  fn: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  opts: { everyMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${opts.what ?? 'a condition'}`);
    }
    await new Promise((r) => setTimeout(r, opts.everyMs ?? 250));
  }
}
