/**
 * Relation exports running at once in this worker process, whatever chunk they belong to: a chunk in its tail
 * leaves its slots to the chunks still full of work, as one queue of relations would. First come, first served.
 */
export class RelationSlots {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly size: number) {
    this.free = size;
  }

  /**
   * Runs `task` in a slot; a caller whose signal aborts while it waits leaves the queue. When the signal aborts while
   * the task runs, the slot is given back and the call rejects at once, even if the task never settles (a query on
   * a connection that died): an abandoned attempt must not keep slots from the attempt that replaces it.
   */
  async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.acquire(signal);
    let onAbort: (() => void) | undefined;
    try {
      const running = task();
      if (!signal) return await running;
      running.catch(() => undefined); // abandoned below: its late failure is nobody's
      const aborted = new Promise<never>((_, reject) => {
        onAbort = () => reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
      });
      return await Promise.race([running, aborted]);
    } finally {
      if (onAbort) signal?.removeEventListener('abort', onAbort);
      this.release();
    }
  }

  private acquire(signal?: AbortSignal): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const granted = () => {
        signal?.removeEventListener('abort', aborted);
        resolve();
      };
      const aborted = () => {
        const i = this.waiting.indexOf(granted);
        if (i !== -1) this.waiting.splice(i, 1);
        reject(
          signal?.reason instanceof Error ? signal.reason : new Error('aborted while waiting for a relation slot'),
        );
      };
      if (signal?.aborted) return aborted();
      signal?.addEventListener('abort', aborted, { once: true });
      this.waiting.push(granted);
    });
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}
