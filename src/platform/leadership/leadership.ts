import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { LeaderRepository, LeaderRow } from './leader-repository.js';

/** A lock only one replica holds at a time, kept by the database (see PostgresLeaderLock). */
export interface LeaderLock {
  /** Takes the lock if it is free; true while this replica holds it. */
  tryAcquire(): Promise<boolean>;
  /** Whether this replica still holds it. */
  check(): Promise<boolean>;
  release(): Promise<void>;
}

/** What /healthz says about leading. */
export interface LeadershipStatus {
  replica: string;
  leading: boolean;
  /** The replica that leads, as it recorded itself; absent while the database cannot be read. */
  leader?: LeaderRow;
}

const ROLE = 'timed-work';

/**
 * Which replica does the timed work: alarm polls, sweeps (reminders,
 * expiries, escalation), milestones, recovery of rollouts and canaries, the
 * outbox's retry poll. Requests are answered by every replica. With no lock
 * (SQLite: one process, or a few on one host, whose work the database's own
 * constraints already keep to once) this replica always leads.
 */
export class Leadership {
  private leading = false;
  private since?: string;
  private timer?: NodeJS.Timeout;
  private readonly listeners: ((leading: boolean) => void)[] = [];
  private lastError?: string;
  private ticking?: Promise<void>;

  constructor(
    private readonly deps: { replica: string; lock?: LeaderLock; rows: LeaderRepository; clock: Clock; logger: Logger; checkMs?: number },
  ) {}

  get replica(): string {
    return this.deps.replica;
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** Called with true when this replica starts leading, false when it stops. */
  onChange(fn: (leading: boolean) => void): void {
    this.listeners.push(fn);
  }

  /** Tries once (awaited), then keeps trying, or checking the lock it holds, every few seconds. */
  async start(): Promise<void> {
    await this.tick();
    if (!this.deps.lock) return;
    this.timer = setInterval(() => {
      this.ticking ??= this.tick().finally(() => (this.ticking = undefined));
    }, this.deps.checkMs ?? 5000);
    this.timer.unref();
  }

  /** The lock was lost between checks (its connection failed). */
  lost(err: Error): void {
    if (!this.leading) return;
    this.deps.logger.warn({ err, replica: this.replica }, 'this replica lost its hold on the database and stops leading; another takes over the alarm polls, sweeps and milestones');
    this.set(false);
  }

  private async tick(): Promise<void> {
    const { lock } = this.deps;
    try {
      if (!lock) {
        if (!this.leading) await this.take();
        return;
      }
      if (this.leading) {
        if (!(await lock.check())) this.lost(new Error('the leader lock connection failed'));
        return;
      }
      if (await lock.tryAcquire()) await this.take();
      this.lastError = undefined;
    } catch (err) {
      const message = (err as Error).message;
      // Once per outage, not every few seconds.
      if (message !== this.lastError) this.deps.logger.warn({ err, replica: this.replica }, 'could not reach the database to see which replica leads; trying again');
      this.lastError = message;
    }
  }

  private async take(): Promise<void> {
    this.since = this.deps.clock.now().toISOString();
    try {
      await this.deps.rows.record(ROLE, this.replica, this.since);
    } catch (err) {
      this.deps.logger.warn({ err }, 'could not record which replica leads (/healthz shows the previous one until the next change)');
    }
    if (this.deps.lock) this.deps.logger.info({ replica: this.replica }, 'this replica now leads: it runs the alarm polls, sweeps and milestones');
    this.set(true);
  }

  private set(leading: boolean): void {
    if (this.leading === leading) return;
    this.leading = leading;
    for (const fn of this.listeners) fn(leading);
  }

  async status(): Promise<LeadershipStatus> {
    const leader = await this.deps.rows.current(ROLE).catch(() => undefined);
    return { replica: this.replica, leading: this.leading, ...(leader ? { leader } : {}) };
  }

  /** Gives the lead up at a clean stop, so another replica takes it at its next try rather than after a timeout. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.ticking;
    const was = this.leading;
    this.set(false);
    if (was && this.deps.lock) {
      await this.deps.lock.release();
      this.deps.logger.info({ replica: this.replica }, 'this replica stopped leading (stopping)');
    }
  }
}
