import type { Logger } from '../logger.js';
import type { ReplicaRepository } from './replica-repository.js';

/** A replica not seen for this long is dead: four beats missed in a row. */
export const DEAD_AFTER_MS = 20_000;
/** How often a replica says it is alive. */
export const BEAT_MS = 5_000;
/** A cutoff no replica was seen after: with one process (SQLite) every other name is dead. */
const EVERYONE_ELSE_DEAD = '9999-12-31T23:59:59.999Z';

/**
 * What work is recorded with (a request accepted, a rollout watched), and what
 * decides whether another replica may take it over: only once the replica it
 * names is dead (see `notLive` in replica-repository.ts).
 */
export interface Watchers {
  /** This replica's name, recorded on the work it takes on. */
  readonly replica: string;
  /**
   * A replica last seen before this (ISO) is dead; undefined while this replica
   * cannot tell, because its own beats have been failing: after a database
   * outage every replica's last beat is old, the live ones' as much as the dead ones'.
   */
  deadBefore(): string | undefined;
}

/**
 * This replica's sign of life in the `replica` table, written every few
 * seconds; a clean stop removes it, so the others take over at once rather
 * than after the dead time. Wall time, not golive's clock (which tests move):
 * replicas compare their beats with each other's. Without `rows` (SQLite: one
 * process, no lock) nothing is written and every other replica counts as dead,
 * as a restarted process always treated what the previous one left.
 */
export class Liveness implements Watchers {
  private timer?: NodeJS.Timeout;
  private beating?: Promise<void>;
  /** From when (ms) this replica may judge others dead; undefined while its own beats fail. */
  private judgeFrom?: number;
  private failing = false;
  private failedOnce = false;

  constructor(
    private readonly deps: { replica: string; rows?: ReplicaRepository; logger: Logger; beatMs?: number; deadAfterMs?: number; now?: () => number },
  ) {}

  get replica(): string {
    return this.deps.replica;
  }

  /** Whether other replicas share the database (and so the work). */
  get shared(): boolean {
    return this.deps.rows !== undefined;
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }

  private get deadAfterMs(): number {
    return this.deps.deadAfterMs ?? DEAD_AFTER_MS;
  }

  deadBefore(): string | undefined {
    if (!this.deps.rows) return EVERYONE_ELSE_DEAD;
    const now = this.now();
    if (this.judgeFrom === undefined || now < this.judgeFrom) return undefined;
    return new Date(now - this.deadAfterMs).toISOString();
  }

  /** Beats once (awaited: the first beat is in before this replica judges others), then every few seconds. */
  async start(): Promise<void> {
    if (!this.deps.rows) return;
    await this.beat();
    this.timer = setInterval(() => {
      this.beating ??= this.beat().finally(() => (this.beating = undefined));
    }, this.deps.beatMs ?? BEAT_MS);
    this.timer.unref();
  }

  private async beat(): Promise<void> {
    const at = this.now();
    try {
      await this.deps.rows!.beat(this.replica, new Date(at).toISOString());
      // A replica starting has just reached the database, so the others' beats are as fresh as they are; after
      // a failed beat it waits until every live replica has had its beats in again.
      this.judgeFrom ??= this.failedOnce ? at + this.deadAfterMs : at;
      if (this.failing) this.deps.logger.info({ replica: this.replica }, 'this replica can record that it is alive again');
      this.failing = false;
    } catch (err) {
      this.judgeFrom = undefined;
      this.failedOnce = true;
      // Once per outage, not every few seconds.
      if (!this.failing) this.deps.logger.warn({ err, replica: this.replica }, 'could not record that this replica is alive; until it can, it takes over nothing from other replicas');
      this.failing = true;
    }
  }

  /** A clean stop, once its work is done or handed back: the others need not wait the dead time for what is left. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.beating;
    await this.deps.rows?.forget(this.replica).catch((err: unknown) => this.deps.logger.warn({ err }, 'could not record that this replica stopped; the others take over what it left once it counts as dead'));
  }
}
