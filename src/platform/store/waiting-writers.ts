import { performance } from 'node:perf_hooks';

/**
 * How many writers on other threads (the accepting thread, recording a request before its ack) are waiting
 * for SQLite's write lock: a count in shared memory, which the main thread's store reads before it takes the
 * lock and lets them go first. SQLite has no queue for its lock: a connection that finds it taken can only try
 * again, and a busy main thread, going from one transaction straight to the next, took it back every time
 * (acks waited 10–37 ms for it in the benchmark, bench/README.md).
 */
export class WaitingWriters {
  private readonly count: Int32Array;

  /** A new count, or (on the other thread) the one shared with it. */
  constructor(shared?: SharedArrayBuffer) {
    this.count = new Int32Array(shared ?? new SharedArrayBuffer(4));
  }

  /** What to hand the other thread (its workerData) so it counts in the same memory. */
  get shared(): SharedArrayBuffer {
    return this.count.buffer as SharedArrayBuffer;
  }

  /** This thread waits for the lock now. */
  waiting(): void {
    Atomics.add(this.count, 0, 1);
  }

  /** This thread no longer waits (it wrote, or gave up): the main thread may go on. */
  done(): void {
    Atomics.sub(this.count, 0, 1);
    Atomics.notify(this.count, 0);
  }

  /** Forgets every waiter: their thread ended. */
  reset(): void {
    Atomics.store(this.count, 0, 0);
    Atomics.notify(this.count, 0);
  }

  /**
   * Resolves when no other writer waits, or after `limitMs` whatever they do — a bound, so that a writer that
   * never said it was done cannot stop the main thread's work.
   */
  async clear(limitMs: number): Promise<void> {
    const until = performance.now() + limitMs;
    for (let n = Atomics.load(this.count, 0); n > 0; n = Atomics.load(this.count, 0)) {
      const left = until - performance.now();
      if (left <= 0) return;
      const wait = waitAsync(this.count, 0, n, left);
      if (wait.async) await wait.value;
    }
  }
}

// ES2024's Atomics.waitAsync (in Node since 16), typed here while the project compiles against ES2022.
type WaitAsync = (a: Int32Array, index: number, value: number, timeoutMs: number) => { async: false; value: string } | { async: true; value: Promise<string> };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;
