import type { Runbook } from '../runbook/schema.js';

/** What in the runbook pages on-call (alarm rules with `page: true`, incident severities with `page: true`), in words. */
export function pagingRules(runbook: Runbook): string[] {
  return [
    ...(runbook.alarms?.rules ?? []).filter((r) => r.page).map((r) => r.match),
    ...Object.entries(runbook.incidents?.severities ?? {}).filter(([, d]) => d?.page).map(([s]) => `incident severity ${s}`),
  ];
}
