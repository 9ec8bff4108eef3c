import type { Runbook } from '../runbook/schema.js';

/** What in the runbook pages on-call (alarm rules and incident severities with `page: true`, or an escalation level that pages), in words. */
export function pagingRules(runbook: Runbook): string[] {
  return [
    ...(runbook.alarms?.rules ?? []).filter((r) => r.page || r.escalation.some((l) => l.page)).map((r) => r.match),
    ...Object.entries(runbook.incidents?.severities ?? {}).filter(([, d]) => d?.escalation.some((l) => l.page)).map(([s]) => `incident severity ${s} escalation`),
    ...Object.entries(runbook.incidents?.severities ?? {}).filter(([, d]) => d?.page).map(([s]) => `incident severity ${s}`),
  ];
}
