import { log } from '@temporalio/activity';
import type { WholeRelationOutcome } from '../../db/offline-export/tracking';

export interface RecorderOptions {
  /** Records a group of outcomes in one statement. */
  record: (outcomes: WholeRelationOutcome[]) => Promise<unknown>;
  /** A group is recorded once this many are waiting (and holds at most this many)... */
  maxPending: number;
  /** ...or this long after the first of them arrived. */
  delayMs: number;
  /** Consecutive failed attempts before the recorder gives up (it then fails every drain). */
  attempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  /** Called once when the recorder gives up, so the attempt stops rather than exporting what it cannot record. */
  onGiveUp: (err: unknown) => void;
}

/**
 * Gathers the relations a chunk exported whole and records them FINISHED many at a time: one statement and one
 * commit for dozens of relations, while the lanes go on with the next ones. Until recorded, a relation's row stays
 * PENDING, so an attempt that dies with outcomes still waiting leaves them to the next attempt, which writes the same
 * objects again. A failed statement is retried with backoff; when it keeps failing the recorder stops and drain()
 * rejects with the error, which fails the chunk attempt.
 */
export class WholeRelationRecorder {
  private pending: WholeRelationOutcome[] = [];
  private inFlight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private failed: Error | undefined;
  private readonly waiters: (() => void)[] = [];

  constructor(private readonly options: RecorderOptions) {}

  /** True while a failed statement waits for its retry (the chunk's stall watch counts that as alive). */
  get backingOff(): boolean {
    return this.failures > 0 && this.failed === undefined;
  }

  /** Queues an outcome; ignored once the recorder gave up (the attempt is stopping, the row stays PENDING). */
  add(outcome: WholeRelationOutcome): void {
    if (this.failed !== undefined) return;
    this.pending.push(outcome);
    if (this.pending.length >= this.options.maxPending) this.kick();
    else this.timer ??= setTimeout(() => this.kick(), this.options.delayMs);
  }

  /** Resolves once everything added so far is recorded; rejects when the recorder gave up. */
  async drain(): Promise<void> {
    for (;;) {
      if (this.failed !== undefined) throw this.failed;
      if (this.pending.length === 0 && !this.inFlight) return;
      if (!this.inFlight && !this.backingOff) this.kick();
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /**
   * One last try without waiting for backoffs (an attempt that is stopping anyway); never throws, and gives up
   * after `waitMs` (a statement on a connection that died may never settle), leaving the rest PENDING.
   */
  async flushOnce(waitMs = 5_000): Promise<void> {
    this.stopTimer();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), waitMs)));
    try {
      if ((await Promise.race([this.inFlight, timeout])) === 'timeout') return;
      if (this.pending.length === 0 || this.failed !== undefined) return;
      const group = this.pending;
      this.pending = [];
      const recorded = this.options.record(group).then(
        () => undefined,
        (err: unknown) => {
          log.warn('could not record finished relations; the next attempt exports them again', {
            relations: group.length,
            error: String(err),
          });
        },
      );
      await Promise.race([recorded, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private stopTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private kick(): void {
    this.stopTimer();
    if (this.inFlight || this.pending.length === 0 || this.failed !== undefined) return;
    const group = this.pending.splice(0, this.options.maxPending);
    this.inFlight = this.options
      .record(group)
      .then(
        () => {
          this.failures = 0;
        },
        (err: unknown) => {
          // Put them back ahead of newer ones, and retry after a backoff.
          this.pending = [...group, ...this.pending];
          this.failures++;
          if (this.failures >= this.options.attempts) {
            this.failed = err instanceof Error ? err : new Error(String(err));
            this.options.onGiveUp(this.failed);
            return;
          }
          const wait = Math.min(this.options.initialBackoffMs * 2 ** (this.failures - 1), this.options.maxBackoffMs);
          log.warn('recording finished relations failed; retrying', {
            relations: group.length,
            attempt: this.failures,
            waitMs: wait,
            error: String(err),
          });
          this.timer = setTimeout(() => this.kick(), wait);
        },
      )
      .finally(() => {
        this.inFlight = undefined;
        // What arrived meanwhile: a full group goes now, the rest after the delay.
        if (!this.backingOff && this.pending.length >= this.options.maxPending) this.kick();
        else if (!this.backingOff && this.pending.length > 0)
          this.timer ??= setTimeout(() => this.kick(), this.options.delayMs);
        this.wake();
      });
  }
}
