import type { Store } from '../store/store.js';
import { PRIORITY_RANK, type CallPriority } from '../slack/slack-port.js';

/** Where a row goes: Slack, PagerDuty, (escalation levels) email through SES, or a `document`: a file golive renders at delivery and shares in Slack (src/report/). */
export type OutboxTarget = 'slack' | 'pagerduty' | 'email' | 'document';

/** A Slack Web API call or PagerDuty event waiting to be delivered. */
export interface OutboxRow {
  id: number;
  target: OutboxTarget;
  /** The Slack method, or the PagerDuty event action. */
  method: string;
  args: Record<string, unknown>;
  created_at: string;
  attempts: number;
  next_attempt_at: string;
  /** Another row whose delivery result (a Slack ts) this one needs first. */
  depends_on: number | null;
  /** When a send was last started without Slack saying no: it may have been posted. */
  sending_at: string | null;
  /** 0 urgent, 1 people, 2 refresh (see {@link PRIORITY_RANK}). */
  priority: number;
  /** Rows in one lane (one channel's top-level posts) are delivered in id order; null for none. */
  lane: string | null;
  /** The kind of post it may be gathered with in its lane (see `Gathering` in outbox.ts); null: it goes alone. */
  gather: string | null;
}

/** A row of a gathered post, with what it shows there. */
export interface GatheredRow {
  id: number;
  created_at: string;
  sending_at: string | null;
  args: Record<string, unknown>;
  /** What the row's feature stored for its renderer (EnqueueOptions.gather's `part`). */
  part: Record<string, unknown>;
}

/** The priority each stored rank stands for (the due list is ordered by rank). */
const PRIORITY_OF = Object.fromEntries(Object.entries(PRIORITY_RANK).map(([k, v]) => [v, k])) as Record<number, CallPriority>;

/** The priority a stored row was given. */
export function rowPriority(row: Pick<OutboxRow, 'priority'>): CallPriority {
  return PRIORITY_OF[row.priority] ?? 'people';
}

/** What {@link OutboxRepository.enqueue} takes besides the call. */
export interface EnqueueOptions {
  target?: OutboxTarget;
  dependsOn?: number | null;
  /** Defaults to `urgent` for PagerDuty events, `people` for Slack calls. */
  priority?: CallPriority;
  /**
   * For a `chat.update` of the message `dependsOn` names: when an update of that message is still waiting
   * (stored, not yet being sent), it is replaced by this one instead of queuing another, so a message edited
   * many times costs one call per delivery, always with its latest content. Returns the id of the row kept.
   */
  coalesce?: boolean;
  /**
   * A channel post that may go out together with the others of kind `key` waiting in its channel, as one post
   * (`Gathering` in outbox.ts); `part` is what it shows there, for that kind's renderer. Alone, it is posted as stored.
   */
  gather?: { key: string; part: Record<string, unknown> };
}

/** What became of a delivery. */
export interface OutboxOutcome {
  delivered_at: string | null;
  failed_at: string | null;
  last_error: string | null;
  result: Record<string, unknown> | null;
}

/** A delivery given up on, for operators to see. */
export interface FailedDelivery {
  id: number;
  target: OutboxTarget;
  method: string;
  failed_at: string;
  last_error: string | null;
  args: Record<string, unknown>;
}

/** The outbox's PARENT_TS placeholder (src/platform/outbox/outbox.ts), as a reply's `thread_ts` holds it. */
const PARENT_THREAD = '$parent.ts';

/** `id = ?` for one row, `id IN (?, …)` for several. */
function idIn(ids: number | readonly number[]): [string, number[]] {
  const list = typeof ids === 'number' ? [ids] : [...ids];
  return [list.length === 1 ? 'id = ?' : `id IN (${list.map(() => '?').join(', ')})`, list];
}

const parseArgs = <R extends { args: string }>(r: R): Omit<R, 'args'> & { args: Record<string, unknown> } => ({ ...r, args: JSON.parse(r.args) as Record<string, unknown> });

/** The outbox table: calls stored with the change they announce, and what became of each. */
export class OutboxRepository {
  constructor(private readonly store: Store) {}

  /** Stores a call, due at once; returns its id (which a dependent row names in `dependsOn`). */
  async enqueue(method: string, args: Record<string, unknown>, at: string, opts: EnqueueOptions = {}): Promise<number> {
    if (opts.coalesce && (opts.dependsOn ?? null) !== null) {
      const replaced = await this.replacePending(method, opts.dependsOn!, args, at, opts.priority);
      if (replaced !== undefined) return replaced;
    }
    const target = opts.target ?? 'slack';
    const priority = opts.priority ?? (target === 'pagerduty' ? 'urgent' : 'people');
    // A thread reply or an update waits for its parent anyway; a channel's own posts keep their order here.
    const lane = target === 'slack' && method === 'chat.postMessage' && (opts.dependsOn ?? null) === null && typeof args.channel === 'string' ? `post:${args.channel}` : null;
    const dedupKey = target === 'pagerduty' && typeof args.dedupKey === 'string' ? args.dedupKey : null;
    const gather = lane !== null && opts.gather ? opts.gather : undefined;
    // It goes with the ones already waiting (held for the gathering window): due when they are, not listed before.
    const waitingUntil = gather ? (await this.store.get<{ n: string | null }>('SELECT MAX(next_attempt_at) AS n FROM outbox WHERE lane = ? AND gather = ? AND delivered_at IS NULL AND failed_at IS NULL', lane, gather.key))?.n : null;
    return (await this.store.get<{ id: number }>(
      'INSERT INTO outbox (target, method, args, created_at, next_attempt_at, depends_on, priority, lane, dedup_key, gather, gather_part) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id',
      target,
      method,
      JSON.stringify(args),
      at,
      waitingUntil && waitingUntil > at ? waitingUntil : at,
      opts.dependsOn ?? null,
      PRIORITY_RANK[priority],
      lane,
      dedupKey,
      gather?.key ?? null,
      gather ? JSON.stringify(gather.part) : null,
    ))!.id;
  }

  /**
   * The pending update of `parent`'s message that nobody is sending yet, given `args` (and the more urgent of the
   * two priorities); undefined when there is none. A row another replica has claimed is left alone: it may be on
   * its way, so the new content needs a row of its own after it.
   */
  private async replacePending(method: string, parent: number, args: Record<string, unknown>, at: string, priority: CallPriority | undefined): Promise<number | undefined> {
    const rank = PRIORITY_RANK[priority ?? 'people'];
    const r = await this.store.get<{ id: number }>(
      `UPDATE outbox SET args = ?, priority = CASE WHEN priority < ? THEN priority ELSE ? END
       WHERE id = (SELECT MAX(id) FROM outbox WHERE depends_on = ? AND method = ? AND target = 'slack' AND delivered_at IS NULL AND failed_at IS NULL)
         AND sending_at IS NULL AND (claimed_until IS NULL OR claimed_until <= ?)
       RETURNING id`,
      JSON.stringify(args),
      rank,
      rank,
      parent,
      method,
      at,
    );
    return r?.id;
  }

  /** Due rows, most urgent first, then oldest; only those bound for `targets` when it is given. */
  async due(now: string, limit: number, targets?: readonly OutboxTarget[]): Promise<OutboxRow[]> {
    const only = targets && targets.length > 0 ? `AND target IN (${targets.map(() => '?').join(', ')})` : '';
    const rows = await this.store.all<Omit<OutboxRow, 'args'> & { args: string }>(
      `SELECT id, target, method, args, created_at, attempts, next_attempt_at, depends_on, sending_at, priority, lane, gather FROM outbox o
       WHERE delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at <= ? ${only}
         -- a reply waiting for its post does not take a place in the batch (it would starve pages behind it)
         AND (depends_on IS NULL OR EXISTS (SELECT 1 FROM outbox p WHERE p.id = o.depends_on AND (p.delivered_at IS NOT NULL OR p.failed_at IS NOT NULL)))
       ORDER BY priority, id LIMIT ?`,
      now,
      ...(targets && targets.length > 0 ? targets : []),
      limit,
    );
    return rows.map(parseArgs);
  }

  /**
   * The ts of the thread a delivered post is in: its own for a channel post, its thread's for a reply (followed
   * up through the replies it was itself threaded under); undefined while that is not delivered.
   */
  async threadOf(id: number): Promise<string | undefined> {
    let at: number | null = id;
    for (let hops = 0; at !== null && hops < 10; hops++) {
      const r: { args: string; depends_on: number | null; result: string | null } | undefined = await this.store.get('SELECT args, depends_on, result FROM outbox WHERE id = ?', at);
      if (!r) return undefined;
      const threadTs = (JSON.parse(r.args) as { thread_ts?: unknown }).thread_ts;
      if (typeof threadTs === 'string' && threadTs !== PARENT_THREAD) return threadTs;
      if (threadTs !== PARENT_THREAD) {
        const ts = r.result ? (JSON.parse(r.result) as { ts?: unknown }).ts : undefined;
        return typeof ts === 'string' ? ts : undefined;
      }
      at = r.depends_on;
    }
    return undefined;
  }

  async outcome(id: number): Promise<OutboxOutcome | undefined> {
    const r = await this.store.get<Omit<OutboxOutcome, 'result'> & { result: string | null }>('SELECT delivered_at, failed_at, last_error, result FROM outbox WHERE id = ?', id);
    return r && { ...r, result: r.result ? (JSON.parse(r.result) as Record<string, unknown>) : null };
  }

  /** Deliveries given up on, newest first. */
  async failed(limit: number): Promise<FailedDelivery[]> {
    return (await this.store.all<Omit<FailedDelivery, 'args'> & { args: string }>('SELECT id, target, method, failed_at, last_error, args FROM outbox WHERE failed_at IS NOT NULL ORDER BY id DESC LIMIT ?', limit)).map(parseArgs);
  }

  /**
   * Whether an older row on the same stream is still undelivered: the same
   * PagerDuty dedup key (a resolve must not overtake its trigger), the same
   * parent post and method (its replies keep their order, and so do its
   * updates; an edit of the post need not wait for a thread of replies), or the
   * same lane at the same or a higher priority (a channel's posts keep their
   * order; an urgent post may overtake an announcement, not another urgent post).
   */
  async hasOlderPending(row: OutboxRow): Promise<boolean> {
    const key = row.target === 'pagerduty' ? row.args.dedupKey : undefined;
    if (typeof key === 'string') {
      return !!(await this.store.get('SELECT 1 FROM outbox WHERE id < ? AND dedup_key = ? AND delivered_at IS NULL AND failed_at IS NULL LIMIT 1', row.id, key));
    }
    if (row.depends_on !== null) {
      return !!(await this.store.get('SELECT 1 FROM outbox WHERE id < ? AND depends_on = ? AND method = ? AND delivered_at IS NULL AND failed_at IS NULL LIMIT 1', row.id, row.depends_on, row.method));
    }
    if (row.lane !== null) {
      return !!(await this.store.get('SELECT 1 FROM outbox WHERE id < ? AND lane = ? AND priority <= ? AND delivered_at IS NULL AND failed_at IS NULL LIMIT 1', row.id, row.lane, row.priority));
    }
    return false;
  }

  /**
   * Claims a due row for one replica until `until`: undefined when it is
   * delivered, given up on, or claimed by another replica whose claim has not
   * run out. The row comes back as it is now (another replica may have tried
   * it since it was listed). Every mark below ends the claim. A row `replica`
   * claimed itself is claimed again at once: its attempt ended without a mark
   * (the database went away mid-delivery, or the replica's previous life
   * died), and the caller is not sending it now (see `Outbox`).
   */
  async claim(id: number, replica: string, now: string, until: string): Promise<OutboxRow | undefined> {
    const r = await this.store.get<Omit<OutboxRow, 'args'> & { args: string }>(
      `UPDATE outbox SET claimed_by = ?, claimed_until = ?
       WHERE id = ? AND delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at <= ? AND (claimed_until IS NULL OR claimed_until <= ? OR claimed_by = ?)
       RETURNING id, target, method, args, created_at, attempts, next_attempt_at, depends_on, sending_at, priority, lane, gather`,
      replica,
      until,
      id,
      now,
      now,
      replica,
    );
    return r && parseArgs(r);
  }

  /**
   * Ends the claims of replicas not seen since `deadBefore` on rows still
   * waiting, so they are sent at once rather than when the claim runs out
   * (a row whose send had started is looked for in Slack first, as always).
   * Not `replica`'s own: it may be sending them now. Returns how many.
   */
  async releaseClaimsOfDead(replica: string, deadBefore: string): Promise<number> {
    return this.store.run(
      `UPDATE outbox SET claimed_by = NULL, claimed_until = NULL
       WHERE delivered_at IS NULL AND failed_at IS NULL AND claimed_by IS NOT NULL AND claimed_by <> ?
         AND NOT EXISTS (SELECT 1 FROM replica live WHERE live.name = outbox.claimed_by AND live.seen_at >= ?)`,
      replica,
      deadBefore,
    );
  }

  /**
   * When the last delivered gathered post of kind `gather` in `lane` left for Slack; undefined for none. Its
   * sending_at, not its delivered_at: the window runs from when the post went, so a slow answer does not stretch it.
   * (A lane delivers in order, so the last delivered is the last sent; the index finds it.)
   */
  async lastGathered(lane: string, gather: string): Promise<string | undefined> {
    return (
      (await this.store.get<{ at: string | null }>('SELECT COALESCE(sending_at, delivered_at) AS at FROM outbox WHERE lane = ? AND gather = ? AND delivered_at IS NOT NULL ORDER BY delivered_at DESC LIMIT 1', lane, gather))?.at ?? undefined
    );
  }

  /** Holds the waiting rows of kind `gather` in `lane` until `until` (the gathering window), so none is listed before. */
  async holdGathered(lane: string, gather: string, until: string): Promise<void> {
    await this.store.run('UPDATE outbox SET next_attempt_at = ? WHERE lane = ? AND gather = ? AND delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at < ?', until, lane, gather, until);
  }

  /**
   * Claims `head` (claimed by `replica` already) and the rows waiting behind it that may go in one post with
   * it, up to `limit` in all, oldest first: the same lane and kind, up to the first other post of the lane that
   * they may not overtake (see {@link hasOlderPending}), and none claimed by another replica or in `busy`
   * (this replica is sending them) — a row behind one of those stays for the next post, so the order holds.
   */
  async claimGathered(head: OutboxRow, replica: string, now: string, until: string, limit: number, busy: ReadonlySet<number>): Promise<GatheredRow[]> {
    const candidates = (await this.store.all<{ id: number }>(
      `SELECT o.id FROM outbox o
       WHERE o.lane = ? AND o.gather = ? AND o.id > ? AND o.delivered_at IS NULL AND o.failed_at IS NULL
         AND NOT EXISTS (SELECT 1 FROM outbox b WHERE b.lane = o.lane AND b.id > ? AND b.id < o.id AND (b.gather IS NULL OR b.gather <> o.gather) AND b.priority <= o.priority AND b.delivered_at IS NULL AND b.failed_at IS NULL)
       ORDER BY o.id LIMIT ?`,
      head.lane,
      head.gather,
      head.id,
      head.id,
      limit - 1,
    )).map((r) => r.id);
    const free = candidates.findIndex((id) => busy.has(id));
    const ids = [head.id, ...(free < 0 ? candidates : candidates.slice(0, free))];
    const claimed = await this.store.all<{ id: number; created_at: string; sending_at: string | null; args: string; gather_part: string | null }>(
      `UPDATE outbox SET claimed_by = ?, claimed_until = ?
       WHERE id IN (${ids.map(() => '?').join(', ')}) AND delivered_at IS NULL AND failed_at IS NULL AND (claimed_until IS NULL OR claimed_until <= ? OR claimed_by = ?)
       RETURNING id, created_at, sending_at, args, gather_part`,
      replica,
      until,
      ...ids,
      now,
      replica,
    );
    const byId = new Map(claimed.map((r) => [r.id, r]));
    const gap = ids.findIndex((id) => !byId.has(id));
    const kept = gap < 0 ? ids : ids.slice(0, gap);
    const behind = ids.slice(kept.length).filter((id) => byId.has(id));
    if (behind.length > 0) await this.unclaim(behind);
    return kept.map((id) => {
      const r = byId.get(id)!;
      return { id, created_at: r.created_at, sending_at: r.sending_at, args: JSON.parse(r.args) as Record<string, unknown>, part: r.gather_part ? (JSON.parse(r.gather_part) as Record<string, unknown>) : {} };
    });
  }

  /** Gives claimed rows back untried (a rate limit began while they were claimed, or they wait for the next post). */
  async unclaim(ids: number | readonly number[]): Promise<void> {
    const [where, params] = idIn(ids);
    await this.store.run(`UPDATE outbox SET claimed_by = NULL, claimed_until = NULL WHERE ${where}`, ...params);
  }

  /** Records that a send is starting, before it leaves; survives a crash mid-call. */
  async markSending(ids: number | readonly number[], at: string): Promise<void> {
    const [where, params] = idIn(ids);
    await this.store.run(`UPDATE outbox SET sending_at = ? WHERE ${where}`, at, ...params);
  }

  /** Slack refused the send, so it was certainly not posted. */
  async clearSending(ids: number | readonly number[]): Promise<void> {
    const [where, params] = idIn(ids);
    await this.store.run(`UPDATE outbox SET sending_at = NULL, claimed_by = NULL, claimed_until = NULL WHERE ${where}`, ...params);
  }

  /** Rows delivered (a gathered post: all of them at once, with the one post's ts), unless they already were. */
  async markDelivered(ids: number | readonly number[], at: string, result: unknown): Promise<void> {
    const [where, params] = idIn(ids);
    await this.store.run(`UPDATE outbox SET delivered_at = ?, attempts = attempts + 1, result = ?, last_error = NULL, claimed_by = NULL, claimed_until = NULL WHERE ${where} AND delivered_at IS NULL`, at, JSON.stringify(result ?? null), ...params);
  }

  async markRetry(ids: number | readonly number[], error: string, nextAttemptAt: string): Promise<void> {
    const [where, params] = idIn(ids);
    await this.store.run(`UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?, claimed_by = NULL, claimed_until = NULL WHERE ${where}`, error, nextAttemptAt, ...params);
  }

  async markFailed(ids: number | readonly number[], at: string, error: string): Promise<void> {
    const [where, params] = idIn(ids);
    await this.store.run(`UPDATE outbox SET attempts = attempts + 1, failed_at = ?, last_error = ?, claimed_by = NULL, claimed_until = NULL WHERE ${where}`, at, error, ...params);
  }

  /** The calls bound anywhere but PagerDuty that are still waiting: how many, since when the oldest, and the latest error among them. */
  async waiting(): Promise<{ count: number; oldest?: string; error?: string }> {
    const pending = "delivered_at IS NULL AND failed_at IS NULL AND target <> 'pagerduty'";
    const r = (await this.store.get<{ n: number; oldest: string | null; error: string | null }>(
      `SELECT COUNT(*) AS n, MIN(created_at) AS oldest, (SELECT last_error FROM outbox WHERE ${pending} AND last_error IS NOT NULL ORDER BY id DESC LIMIT 1) AS error FROM outbox WHERE ${pending}`,
    ))!;
    return { count: r.n, ...(r.oldest ? { oldest: r.oldest } : {}), ...(r.error ? { error: r.error } : {}) };
  }

  /** When the soonest row of `targets` that is not due yet at `now` (held for gathering, backing off) comes due. */
  async nextAttemptAfter(now: string, targets: readonly OutboxTarget[]): Promise<string | undefined> {
    const r = await this.store.get<{ at: string | null }>(
      `SELECT MIN(next_attempt_at) AS at FROM outbox WHERE delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at > ? AND target IN (${targets.map(() => '?').join(', ')})`,
      now,
      ...targets,
    );
    return r?.at ?? undefined;
  }

  async pendingCount(): Promise<number> {
    return (await this.store.get<{ n: number }>('SELECT COUNT(*) AS n FROM outbox WHERE delivered_at IS NULL AND failed_at IS NULL'))!.n;
  }

  /** Every PagerDuty trigger golive queued, oldest first: what was paged, and when (the launch report). */
  async pagerTriggers(): Promise<{ dedupKey: string; at: string; delivered_at: string | null }[]> {
    return (await this.store.all<{ args: string; created_at: string; delivered_at: string | null }>("SELECT args, created_at, delivered_at FROM outbox WHERE target = 'pagerduty' AND method = 'trigger' ORDER BY id")).map((r) => ({ dedupKey: String((JSON.parse(r.args) as { dedupKey?: unknown }).dedupKey ?? ''), at: r.created_at, delivered_at: r.delivered_at }));
  }
}
