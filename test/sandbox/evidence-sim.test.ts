import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AlarmService } from '../../src/alarms/alarm-service.js';
import { runChecks } from '../../src/evidence/run-checks.js';
import { createLogger } from '../../src/platform/logger.js';
import { loadRunbookFile } from '../../src/platform/runbook/load-runbook.js';
import type { Runbook } from '../../src/platform/runbook/schema.js';
import { CloudWatchSim } from '../../src/sandbox/cloudwatch-sim.js';
import { EcsSim } from '../../src/sandbox/ecs-sim.js';
import { EvidenceSim } from '../../src/sandbox/evidence-sim.js';
import { PROJECT_ROOT } from '../support/start-app.js';
import { closeTestStores, openTestStore } from '../support/test-store.js';

afterEach(closeTestStores);

function load(name: string): Runbook {
  const r = loadRunbookFile(join(PROJECT_ROOT, 'runbooks', name));
  if (!r.ok) throw new Error(`${name} is not valid`);
  return r.runbook;
}

async function outcomes(runbook: Runbook, sim: EvidenceSim) {
  // Alarm checks ask the app's alarm watcher, here one reading the sandbox's CloudWatch.
  const alarms = new AlarmService({ runbook, store: await openTestStore(), cloudwatch: new CloudWatchSim(runbook), clock: { now: () => new Date() }, logger: createLogger({ level: 'silent' }), afterCommit: () => {} });
  const ports = { ...sim.ports(new EcsSim(runbook.services, { rolloutMs: 0 })), alarms };
  const run = await runChecks(
    runbook.gates.flatMap((g) => g.items),
    ports,
    { runbook, now: new Date() },
  );
  return Object.fromEntries([...run.results].map(([id, r]) => [id, r.outcome]));
}

describe('the sandbox answers every check of the example runbooks', () => {
  it.each(['govisax.yml', 'drop.yml', 'fivestar.yml'])('%s: every check passes, and each one the page breaks fails, then passes again', async (name) => {
    const runbook = load(name);
    const sim = new EvidenceSim(runbook);
    const first = await outcomes(runbook, sim);
    expect(Object.values(first).every((o) => o === 'pass'), JSON.stringify(first)).toBe(true);
    for (const item of sim.view()) {
      sim.setBroken(item.id, true);
      expect((await outcomes(runbook, sim))[item.id], item.id).toBe('fail');
      sim.setBroken(item.id, false);
    }
    expect(await outcomes(runbook, sim)).toEqual(first);
  });

  it('lists what each breakable check reads, and keeps the emails golive sent', async () => {
    const runbook = load('drop.yml');
    const sim = new EvidenceSim(runbook, { now: () => Date.parse('2026-03-01T08:00:00Z') });
    expect(sim.view().slice(0, 3)).toEqual([
      { id: 'rds-available', title: 'RDS PostgreSQL drop-db instance available (status: available)', type: 'rds_instance', fact: 'RDS instance drop-db', broken: false },
      { id: 'ecr-production-image', title: 'ECR repository contains latest production-tagged image', type: 'ecr_image', fact: 'image drop-web:production', broken: false },
      { id: 'secrets-configured', title: 'AWS Secrets Manager contains all required secrets', type: 'secret', fact: '7 secrets in eu-west-1', broken: false },
    ]);
    await sim.ses.sendEmail('eu-west-1', { from: 'golive@getdrop.example', to: ['ops@getdrop.example'], subject: 'hello', text: 'body' });
    expect(sim.snapshot().emails).toEqual([{ at: '2026-03-01T08:00:00.000Z', from: 'golive@getdrop.example', to: ['ops@getdrop.example'], subject: 'hello', text: 'body' }]);
    const again = new EvidenceSim(runbook, { snapshot: sim.snapshot() });
    expect(again.emails).toHaveLength(1);
  });
});
