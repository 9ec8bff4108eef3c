import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { golive } from '../support/golive-client.js';
import { findPostgresBin, POSTGRES_HOW_TO, startPostgresCluster, type PostgresCluster } from '../support/postgres.js';
import { startTestApp, type TestApp } from '../support/start-app.js';

// Skipped only on a machine without PostgreSQL, saying how to get it; under CI the cases run and fail instead.
const skip = !findPostgresBin() && !process.env.CI;
if (skip) process.stderr.write(`golive: test/e2e/database-unreachable.test.ts skipped. ${POSTGRES_HOW_TO}\n`);

vi.setConfig({ testTimeout: 60_000 });

// A cluster of its own: this file stops the server, which the run's shared one must not see.
let cluster: PostgresCluster;
let t: TestApp;

beforeAll(async () => {
  if (skip) return;
  cluster = await startPostgresCluster();
  t = await startTestApp({ env: { GOLIVE_DB: (await cluster.createDatabase()).replace('postgres://postgres@', 'postgres://postgres:never-shown-pw@') } });
});
afterAll(async () => {
  await t?.close();
  await cluster?.stop();
});

describe.skipIf(skip)('PostgreSQL out of reach', () => {
  it('answers privately within Slack’s 3 s that nothing was changed, says 503 on /healthz naming the database, and goes on once it is back', async () => {
    expect((await golive(t, 'check secrets-manager before the outage')).status).toBe(200);
    await t.slack.waitForCall('chat.postMessage', (c) => String(c.args.text).includes('before the outage'));

    // 'fast' (sessions cut off): 'immediate' would also drop the last commits of this cluster, which runs with synchronous_commit off.
    await cluster.stopServer();
    const started = Date.now();
    const { status, responseId } = await golive(t, 'check acm-certificate during the outage');
    const ackMs = Date.now() - started;
    expect(status).toBe(200);
    expect(ackMs).toBeLessThan(3000);
    const reply = await t.slack.waitForResponse((r) => r.id === responseId);
    expect(reply.body.response_type).toBe('ephemeral');
    expect(reply.body.text).toBe('⚠️ golive cannot reach its database; nothing was changed.\nTry again in a minute. Whoever runs golive: `/healthz` names the database and what failed.');

    const down = await fetch(`${t.url}/healthz`);
    expect(down.status).toBe(503);
    const body = (await down.json()) as { status: string; database: { ok: boolean; kind: string; path: string; error: string } };
    expect(body.status).toBe('error');
    expect(body.database).toMatchObject({ ok: false, kind: 'postgres' });
    expect(body.database.error).toMatch(new RegExp(`^golive cannot reach its database \\(postgres://postgres@127\\.0\\.0\\.1:${cluster.port}/golive_test_\\w+\\)`));
    expect(JSON.stringify(body)).not.toContain('never-shown-pw');

    await cluster.startServer();
    // The pool reconnects on its own: the next command is recorded and answered as usual.
    expect((await golive(t, 'check acm-certificate after the outage')).status).toBe(200);
    await t.slack.waitForCall('chat.postMessage', (c) => String(c.args.text).includes('after the outage'), 15_000);
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    // Stopping the server can fall between the first post and the mark recording it: it is then found in the channel, not posted again.
    expect(t.slack.calls.filter((c) => c.method === 'chat.postMessage' && String(c.args.text).includes('before the outage'))).toHaveLength(1);
    // The refused command never ran, then or later: only the two commands made while the database was up changed anything.
    const notes = await t.app.store.all<{ note: string }>("SELECT detail::json ->> 'note' AS note FROM audit WHERE action = 'item.check' ORDER BY id");
    expect(notes.map((n) => n.note)).toEqual(['before the outage', 'after the outage']);
    expect(t.logs.join('')).not.toContain('never-shown-pw');
  });
});
