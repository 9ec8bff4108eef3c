import Database from 'better-sqlite3';
import { setTimeout as sleep } from 'node:timers/promises';
import { startFakeSlack, type FakeSlack, type RecordedEntry } from '../../test/support/fake-slack.js';
import { awsTestEnv, seedEcs } from '../../test/support/moto.js';
import { BOT_TOKEN, SIGNING_SECRET } from '../../test/support/start-app.js';

export { BOT_TOKEN, SIGNING_SECRET };

/** The fake Slack every benchmarked process talks to, with the user group the runbooks name. */
export async function benchSlack(): Promise<FakeSlack> {
  const slack = await startFakeSlack({ token: BOT_TOKEN });
  slack.setUsergroupMembers('S0DEVOPS', ['U0DEVOPS2']);
  return slack;
}

/** golive's environment as an operator would set it, pointed at the local peers. */
export function goliveEnv(opts: { slack: FakeSlack; runbook: string; db: string; moto: string }): Record<string, string> {
  return {
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: opts.slack.url,
    GOLIVE_RUNBOOK: opts.runbook,
    GOLIVE_DB: opts.db,
    LOG_LEVEL: 'info',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...awsTestEnv(opts.moto),
  };
}

/**
 * Waits until golive's after-ack work has drained: nothing new reached the
 * fake Slack (calls or response_url posts) for `quietMs`.
 */
export async function settle(slack: FakeSlack, quietMs = 400, capMs = 180_000): Promise<void> {
  const deadline = Date.now() + capMs;
  let seen = -1;
  let quietSince = Date.now();
  while (Date.now() < deadline) {
    const now = slack.calls.length + slack.responses.length;
    if (now !== seen) {
      seen = now;
      quietSince = Date.now();
    } else if (Date.now() - quietSince >= quietMs) return;
    await sleep(50);
  }
  throw new Error(`golive was still calling Slack after ${capMs / 1000} s`);
}

/**
 * Counts what the fake Slack recorded since the last drain and forgets it (its
 * message store stays, so boards can still be updated). Called during runs too:
 * kept, the recordings (every board update carries its blocks) would grow to
 * hundreds of MiB and the bench process's GC pauses would show up as latency.
 */
export class Recorder {
  private counts = new Map<string, number>();
  constructor(
    private readonly slack: FakeSlack,
    private readonly matchers: Record<string, (entry: RecordedEntry) => boolean>,
  ) {}

  drain(): void {
    for (const [name, match] of Object.entries(this.matchers)) {
      let n = this.counts.get(name) ?? 0;
      for (const e of this.slack.calls) if (match(e)) n++;
      for (const e of this.slack.responses) if (match(e)) n++;
      this.counts.set(name, n);
    }
    this.slack.calls.length = 0;
    this.slack.responses.length = 0;
  }

  /** Drains, then returns and resets the count for `name`. */
  take(name: string): number {
    this.drain();
    const n = this.counts.get(name) ?? 0;
    this.counts.set(name, 0);
    return n;
  }
}

/** One number from golive's database, read-only. */
export function count(dbPath: string, sql: string): number {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    return Number(Object.values(db.prepare(sql).get() as Record<string, unknown>)[0]);
  } finally {
    db.close();
  }
}

const seeded = new Map<string, Promise<unknown>>();

/** Seeds moto once with the ECS service the synthetic runbooks' `api` names. */
export function ensureEcs(moto: string): Promise<unknown> {
  let p = seeded.get(moto);
  if (!p) {
    p = seedEcs(moto, { cluster: 'GoVisaX-Prod-Cluster', service: 'GoVisaX-Prod-Service', family: 'govisax-prod', container: 'govisax-api', revisions: 4 });
    seeded.set(moto, p);
  }
  return p;
}
