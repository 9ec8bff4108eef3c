import type { Runbook } from '../platform/runbook/schema.js';
import { SEVERITIES } from '../platform/runbook/schema.js';
import { severityLabel } from './incident-service.js';

/* The incident modals: the fields of each template, so nobody has to remember the syntax at 3 a.m. */

export const VIEW_DECLARE = 'golive_incident_declare';
export const VIEW_UPDATE = 'golive_incident_update';
export const VIEW_RESOLVE = 'golive_incident_resolve';

const input = (blockId: string, label: string, opts: { multiline?: boolean; optional?: boolean; placeholder?: string } = {}) => ({
  type: 'input',
  block_id: blockId,
  optional: opts.optional ?? false,
  label: { type: 'plain_text', text: label },
  element: { type: 'plain_text_input', action_id: 'value', multiline: opts.multiline ?? false, max_length: 2900, ...(opts.placeholder ? { placeholder: { type: 'plain_text', text: opts.placeholder } } : {}) },
});

const modal = (callbackId: string, title: string, submit: string, metadata: string, blocks: unknown[]) => ({
  type: 'modal',
  callback_id: callbackId,
  private_metadata: metadata,
  title: { type: 'plain_text', text: title },
  submit: { type: 'plain_text', text: submit },
  close: { type: 'plain_text', text: 'Cancel' },
  blocks,
});

export function declareModal(runbook: Runbook, channelId: string) {
  const options = SEVERITIES.filter((s) => runbook.incidents?.severities[s]).map((s) => ({
    text: { type: 'plain_text', text: severityLabel(s, runbook.incidents!.severities[s]!.name).slice(0, 75) },
    value: s,
  }));
  return modal(VIEW_DECLARE, 'Declare an incident', 'Declare', channelId, [
    { type: 'input', block_id: 'severity', label: { type: 'plain_text', text: 'Severity' }, element: { type: 'static_select', action_id: 'value', options } },
    input('summary', 'Summary', { placeholder: 'Payments failing at checkout' }),
    input('services', 'Affected services', { optional: true }),
  ]);
}

export function updateModal(incidentId: number, n: number) {
  return modal(VIEW_UPDATE, `Update #${n}`.slice(0, 24), 'Post update', String(incidentId), [
    input('status', 'Current status', { multiline: true }),
    input('actions', 'Actions taken', { multiline: true, optional: true }),
    input('next_steps', 'Next steps', { multiline: true, optional: true }),
    input('eta', 'ETA', { optional: true }),
  ]);
}

export function resolveModal(incidentId: number) {
  return modal(VIEW_RESOLVE, 'Resolve the incident', 'Resolve', String(incidentId), [input('root_cause', 'Root cause', { multiline: true }), input('resolution', 'Resolution', { multiline: true, optional: true })]);
}
