/**
 * One timer that fires at the earliest of the times it is asked for, then forgets them: a wake-up for when
 * the soonest of several waits ends (a Retry-After, a budget's window). Unref'd: it never keeps the process up.
 */
export class EarliestTimer {
  private timer?: NodeJS.Timeout;
  private due = Number.POSITIVE_INFINITY;

  constructor(
    private readonly fire: () => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** Fires at `at` (epoch ms), unless it is already set to fire sooner. */
  at(at: number): void {
    if (at === Number.POSITIVE_INFINITY || at >= this.due) return;
    this.clear();
    this.due = at;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.due = Number.POSITIVE_INFINITY;
        this.fire();
      },
      Math.max(0, at - this.now()),
    );
    this.timer.unref();
  }

  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.due = Number.POSITIVE_INFINITY;
  }
}
