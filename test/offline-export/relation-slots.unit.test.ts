import { RelationSlots } from '../../activities/offline-export/relation-slots';

// The worker-wide limit on relation exports at once: first come, first served; an abandoned attempt (its signal
// aborted) gives its slot back at once, even when its task never settles.

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (err: unknown) => void;
}

/** A task the test settles by hand. */
function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets queued promise callbacks run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Records which tasks started and settles each on demand. */
function tracker() {
  const started: string[] = [];
  const pending = new Map<string, Deferred<string>>();
  const task = (name: string) => () => {
    started.push(name);
    const d = deferred<string>();
    pending.set(name, d);
    return d.promise;
  };
  const finish = (name: string) => pending.get(name)!.resolve(`${name} done`);
  const fail = (name: string, err: unknown) => pending.get(name)!.reject(err);
  return { started, task, finish, fail };
}

/** Whether `slots` has `n` free slots right now: n tasks start at once, and are released afterwards. */
async function freeSlots(slots: RelationSlots): Promise<number> {
  const t = tracker();
  const runs = Array.from({ length: slots.size + 1 }, (_, i) => slots.run(t.task(`probe${i}`)));
  await settle();
  const free = t.started.length;
  for (let i = 0; i <= slots.size; i++) {
    if (t.started.includes(`probe${i}`)) t.finish(`probe${i}`);
    await settle();
  }
  await Promise.all(runs);
  return free;
}

describe('RelationSlots', () => {
  it('runs at most `size` tasks at once and returns each task’s result', async () => {
    const slots = new RelationSlots(2);
    const t = tracker();
    const results = ['a', 'b', 'c', 'd'].map((name) => slots.run(t.task(name)));
    await settle();
    expect(t.started).toEqual(['a', 'b']);
    t.finish('a');
    await settle();
    expect(t.started).toEqual(['a', 'b', 'c']);
    t.finish('c');
    t.finish('b');
    await settle();
    expect(t.started).toEqual(['a', 'b', 'c', 'd']);
    t.finish('d');
    expect(await Promise.all(results)).toEqual(['a done', 'b done', 'c done', 'd done']);
    expect(await freeSlots(slots)).toBe(2);
  });

  it('serves waiters first come, first served', async () => {
    const slots = new RelationSlots(1);
    const t = tracker();
    const runs = ['first', 'second', 'third', 'fourth'].map((name) => slots.run(t.task(name)));
    for (const name of ['first', 'second', 'third', 'fourth']) {
      await settle();
      expect(t.started.at(-1)).toBe(name);
      t.finish(name);
    }
    await Promise.all(runs);
  });

  it('gives the slot back when a task fails, or throws before returning a promise', async () => {
    const slots = new RelationSlots(1);
    const t = tracker();
    const failing = slots.run(t.task('fails'));
    const next = slots.run(t.task('next'));
    await settle();
    t.fail('fails', new Error('S3 said no'));
    await expect(failing).rejects.toThrow('S3 said no');
    await settle();
    expect(t.started).toEqual(['fails', 'next']);
    t.finish('next');
    await expect(next).resolves.toBe('next done');

    await expect(
      slots.run(() => {
        throw new Error('synchronous');
      }),
    ).rejects.toThrow('synchronous');
    expect(await freeSlots(slots)).toBe(1);
  });

  it('drops a waiter whose signal aborts from the queue: its task never runs, the next waiter gets the slot', async () => {
    const slots = new RelationSlots(1);
    const t = tracker();
    const holder = slots.run(t.task('holder'));
    const controller = new AbortController();
    const abandoned = slots.run(t.task('abandoned'), controller.signal);
    const next = slots.run(t.task('next'));
    await settle();
    controller.abort(new Error('attempt cancelled'));
    await expect(abandoned).rejects.toThrow('attempt cancelled');
    t.finish('holder');
    await holder;
    await settle();
    expect(t.started).toEqual(['holder', 'next']);
    t.finish('next');
    await next;
    expect(await freeSlots(slots)).toBe(1);
  });

  it('says why when a waiter is aborted without an Error as the reason', async () => {
    const slots = new RelationSlots(1);
    const t = tracker();
    const holder = slots.run(t.task('holder'));
    const controller = new AbortController();
    const waiting = slots.run(t.task('waiting'), controller.signal);
    controller.abort('just a string');
    await expect(waiting).rejects.toThrow('aborted while waiting for a relation slot');
    t.finish('holder');
    await holder;
  });

  it('does not queue a waiter whose signal is already aborted', async () => {
    const slots = new RelationSlots(1);
    const t = tracker();
    const holder = slots.run(t.task('holder'));
    const reason = new Error('already gone');
    await expect(slots.run(t.task('late'), AbortSignal.abort(reason))).rejects.toBe(reason);
    t.finish('holder');
    await holder;
    await settle();
    expect(t.started).toEqual(['holder']);
    expect(await freeSlots(slots)).toBe(1);
  });

  it('rejects at once and frees the slot when the signal aborts while the task runs, even if it never settles', async () => {
    const slots = new RelationSlots(1);
    const t = tracker();
    const controller = new AbortController();
    const stuck = slots.run(t.task('stuck'), controller.signal); // a query on a dead connection: never settles
    const replacement = slots.run(t.task('replacement'));
    await settle();
    expect(t.started).toEqual(['stuck']);
    controller.abort(new Error('heartbeat timeout'));
    await expect(stuck).rejects.toThrow('heartbeat timeout');
    await settle();
    expect(t.started).toEqual(['stuck', 'replacement']);
    t.finish('replacement');
    await expect(replacement).resolves.toBe('replacement done');
    // The abandoned task failing late is nobody's: no unhandled rejection, no second release.
    t.fail('stuck', new Error('late failure'));
    await settle();
    expect(await freeSlots(slots)).toBe(1);
  });

  it('rejects with a plain "aborted" error when a running task is aborted without an Error', async () => {
    const slots = new RelationSlots(1);
    const t = tracker();
    const controller = new AbortController();
    const running = slots.run(t.task('running'), controller.signal);
    await settle();
    controller.abort();
    // AbortController.abort() without a reason gives a DOMException, not an Error subclass in Node 20.
    await expect(running).rejects.toThrow(/aborted/i);
    expect(await freeSlots(slots)).toBe(1);
  });

  it('returns the result of a task whose signal never aborts, and later aborts change nothing', async () => {
    const slots = new RelationSlots(1);
    const controller = new AbortController();
    await expect(slots.run(async () => 42, controller.signal)).resolves.toBe(42);
    controller.abort(new Error('too late'));
    await settle();
    expect(await freeSlots(slots)).toBe(1);
  });
});
