import Database from 'better-sqlite3';
import { startFakeSlack, type FakeSlack } from '../../test/support/fake-slack.js';
import { awsTestEnv, seedEcs } from '../../test/support/moto.js';
import { BOT_TOKEN, SIGNING_SECRET } from '../../test/support/start-app.js';

export { BOT_TOKEN, SIGNING_SECRET };

/** The fake Slack every benchmarked process talks to, with the user group the runbooks name. */
export async function benchSlack(): Promise<FakeSlack> {
  // The benchmarks other than the launch-hour burst measure golive without Slack saying no, as before.
  const slack = await startFakeSlack({ token: BOT_TOKEN, rateLimits: false });
  slack.setUsergroupMembers('S0DEVOPS', ['U0DEVOPS2']);
  return slack;
}

/** golive's environment as an operator would set it, pointed at the local peers. */
export function goliveEnv(opts: { slack: { url: string }; runbook: string; db: string; moto: string }): Record<string, string> {
  return {
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: opts.slack.url,
    GOLIVE_RUNBOOK: opts.runbook,
    GOLIVE_DB: opts.db,
    LOG_LEVEL: 'info',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    // GOLIVE_ACK_THREAD=off npm run bench: the same build accepting requests on its main thread, for a side-by-side run.
    ...(process.env.GOLIVE_ACK_THREAD ? { GOLIVE_ACK_THREAD: process.env.GOLIVE_ACK_THREAD } : {}),
    ...awsTestEnv(opts.moto),
  };
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
