import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { parseRunbook } from '../../src/platform/runbook/load-runbook.js';
import type { Runbook } from '../../src/platform/runbook/schema.js';

/** What a synthetic runbook contains besides its items. */
export interface SyntheticOptions {
  /** Checklist items, spread over gates of up to 25. */
  items: number;
  /** Adds the ECS service `api` (the cluster seedEcs creates) so rollbacks can be requested. */
  service?: boolean;
}

const LEVELS = ['blocker', 'warning', 'info'] as const;

/**
 * A launch runbook of `items` items in gates of 25, realistic lengths of
 * titles, owners spread over four roles (all with U0DEVOPS, so one user
 * can check any item), sign-offs on every gate.
 */
export function syntheticRunbookYaml(opts: SyntheticOptions): string {
  const gates: unknown[] = [];
  for (let g = 0; g * 25 < opts.items; g++) {
    const items = [];
    for (let i = g * 25; i < Math.min(opts.items, (g + 1) * 25); i++) {
      items.push({
        id: `item-${String(i).padStart(4, '0')}`,
        title: `Item ${i}: verify the ${['payment', 'visa', 'partner', 'DNS', 'TLS'][i % 5]} path end to end on production with real credentials`,
        level: LEVELS[i % 3],
        owner: ['devops', 'backend', 'qa', 'bd-lead'][i % 4],
      });
    }
    gates.push({ id: `gate-${String(g).padStart(2, '0')}`, title: `Gate ${g}: readiness of area ${g}`, signoff: ['devops', 'cto'], items });
  }
  const doc: Record<string, unknown> = {
    version: 1,
    launch: { name: `Bench launch (${opts.items} items)`, channel: 'C0OPS', timezone: 'Asia/Kolkata' },
    roles: {
      devops: { name: 'DevOps', users: ['U0DEVOPS'], groups: ['S0DEVOPS'] },
      backend: { name: 'Backend', users: ['U0DEVOPS', 'U0BACK1', 'U0BACK2'] },
      qa: { name: 'QA', users: ['U0DEVOPS', 'U0QA1'] },
      'bd-lead': { name: 'BD Lead', users: ['U0DEVOPS', 'U0BDLEAD'] },
      cto: { name: 'CTO', users: ['U0CTO'] },
    },
    gates,
  };
  if (opts.service) {
    doc.services = [
      {
        name: 'api',
        cluster: 'GoVisaX-Prod-Cluster',
        service: 'GoVisaX-Prod-Service',
        region: 'ap-south-1',
        family: 'govisax-prod',
        container: 'govisax-api',
        deployers: ['devops'],
        rollback_approvers: ['cto', 'devops'],
        // Two approvals: the bench's approver clicks stay on a pending card instead of starting a rollback.
        approvals_required: 2,
        approval_expires_minutes: 24 * 60,
      },
    ];
  }
  return stringify(doc);
}

/** Parses a synthetic runbook with the real schema and loader. */
export function syntheticRunbook(opts: SyntheticOptions): Runbook {
  const parsed = parseRunbook(syntheticRunbookYaml(opts), `bench-${opts.items}.yml`);
  if (!parsed.ok) throw new Error(`synthetic runbook is invalid: ${JSON.stringify(parsed.problems)}`);
  return parsed.runbook;
}

/** Writes a synthetic runbook to `dir` and returns its path. */
export function writeSyntheticRunbook(dir: string, opts: SyntheticOptions): string {
  const file = path.join(dir, `bench-${opts.items}.yml`);
  writeFileSync(file, syntheticRunbookYaml(opts));
  return file;
}
