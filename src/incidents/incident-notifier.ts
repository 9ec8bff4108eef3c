import type { Clock } from '../platform/clock.js';
import { PARENT_CHANNEL, PARENT_TS } from '../platform/outbox/outbox.js';
import type { Runbook } from '../platform/runbook/schema.js';
import { severityLabel, type IncidentNotifier, type IncidentRow } from './incident-service.js';
import { OutboxRepository } from '../platform/outbox/outbox-repository.js';
import type { Store } from '../platform/store/store.js';
import { escapeText } from '../platform/escape.js';
import { formatTime } from '../platform/format-time.js';

export const ACTION_INCIDENT_ACK = 'golive_incident_ack';
export const ACTION_INCIDENT_ROLLBACK = 'golive_incident_rollback';

/** Incident posts go out before announcements and board refreshes (see src/platform/slack/call-scheduler.ts). */
const URGENT = { priority: 'urgent' } as const;

/** Alarms named one per line when a storm incident covers them; the rest are counted (Slack's 3,000 characters per section). */
const STORM_LINES = 10;

/** Incident posts, stored in the outbox inside the incident change's transaction. */
export class SlackIncidentNotifier implements IncidentNotifier {
  private readonly outbox: OutboxRepository;

  constructor(private readonly deps: { runbook: Runbook; store: Store; clock: Clock; /** Where the incident's post-mortem draft is served, if golive has a public address. */ postmortemLink?: (incidentId: number) => string | undefined }) {
    this.outbox = new OutboxRepository(deps.store);
  }

  private async post(channel: string, text: string, buttons: Record<string, unknown>[] = []): Promise<number> {
    const blocks: Record<string, unknown>[] = [{ type: 'section', text: { type: 'mrkdwn', text: text.slice(0, 3000) } }];
    if (buttons.length > 0) blocks.push({ type: 'actions', elements: buttons });
    return this.outbox.enqueue('chat.postMessage', { channel, text, blocks, unfurl_links: false }, this.deps.clock.now().toISOString(), URGENT);
  }

  async declared(incident: IncidentRow, initial: string, alarmPost: number | null): Promise<void> {
    await this.post(incident.channel_id, initial, [
      { type: 'button', text: { type: 'plain_text', text: 'Acknowledge' }, action_id: ACTION_INCIDENT_ACK, value: String(incident.id), style: 'primary' },
    ]);
    const sev = this.deps.runbook.incidents?.severities[incident.severity];
    const by = incident.declared_by === 'golive' ? `automatically for alarm \`${escapeText(incident.alarm_name ?? '?')}\`, commander <@${incident.commander}>` : `by <@${incident.declared_by}>`;
    await this.post(this.deps.runbook.launch.channel, `🚨 *INC-${incident.id} declared* (${escapeText(severityLabel(incident.severity, sev?.name))}) ${by}: ${escapeText(incident.summary)} → <#${incident.channel_id}>`);
    if (alarmPost !== null) {
      await this.outbox.enqueue('chat.postMessage', { channel: PARENT_CHANNEL, thread_ts: PARENT_TS, text: `🚨 Incident INC-${incident.id} declared for this alarm: <#${incident.channel_id}>` }, this.deps.clock.now().toISOString(), { ...URGENT, dependsOn: alarmPost });
    }
  }

  async updated(incident: IncidentRow, update: string, shortLine: string): Promise<void> {
    await this.post(incident.channel_id, update);
    await this.post(this.deps.runbook.launch.channel, `${shortLine} (<#${incident.channel_id}>)`);
  }

  async resolved(incident: IncidentRow, resolved: string): Promise<void> {
    await this.post(incident.channel_id, resolved);
    await this.post(this.deps.runbook.launch.channel, `✅ *INC-${incident.id} resolved* by <@${incident.resolved_by}>: ${escapeText(incident.summary)} (<#${incident.channel_id}>)`);
  }

  async acknowledged(incident: IncidentRow): Promise<void> {
    await this.post(incident.channel_id, `👀 <@${incident.acked_by}> acknowledged INC-${incident.id}${incident.escalated_at ? '' : '; no escalation'}.`);
  }

  async escalated(incident: IncidentRow, roles: { name: string; users: string[] }[], afterMinutes: number, paged: boolean): Promise<void> {
    const who = roles.map((r) => `${escapeText(r.name)}${r.users.length ? ` (${r.users.join(', ')})` : ''}`).join(', ');
    const text = `⏫ INC-${incident.id} (${incident.severity}) was not acknowledged within ${afterMinutes} min: escalating${who ? ` to ${who}` : ''}${paged ? ', and paging on-call' : ''}.`;
    await this.post(incident.channel_id, text);
    await this.post(this.deps.runbook.launch.channel, `${text} <#${incident.channel_id}>`);
  }

  async rollbackPrompt(incident: IncidentRow, service: string | null, minutes: number): Promise<void> {
    const text = service
      ? `⏪ INC-${incident.id} has been open ${minutes} min without a root cause. Roll back \`${escapeText(service)}\` now? (This asks for an approval, like \`/golive rollback ${escapeText(service)}\`.)`
      : `⏪ INC-${incident.id} has been open ${minutes} min without a root cause. Consider rolling back; this runbook names no service to roll back.`;
    await this.post(incident.channel_id, text, service ? [{ type: 'button', text: { type: 'plain_text', text: `Roll back ${service.slice(0, 50)}` }, action_id: ACTION_INCIDENT_ROLLBACK, value: `${incident.id}:${service}`, style: 'danger' }] : []);
  }

  async alsoFiring(incident: IncidentRow, alarms: { name: string; reason: string }[]): Promise<void> {
    const shown = alarms.slice(0, STORM_LINES);
    const lines = shown.map((a) => `• \`${escapeText(a.name)}\`: ${escapeText(a.reason.slice(0, 200))}`);
    if (alarms.length > shown.length) lines.push(`…and ${alarms.length - shown.length} more (every one is in the storm's thread in <#${this.deps.runbook.launch.channel}>).`);
    const n = alarms.length;
    await this.post(incident.channel_id, `🌩️ ${n === 1 ? 'Another alarm' : `${n} more alarms`} under the same rule fired in the storm; INC-${incident.id} covers ${n === 1 ? 'it' : 'them'} (no incident of ${n === 1 ? 'its' : 'their'} own):\n${lines.join('\n')}`);
  }

  async changed(incident: IncidentRow, what: string): Promise<void> {
    await this.post(incident.channel_id, `✏️ INC-${incident.id}: ${what}.`);
    await this.post(this.deps.runbook.launch.channel, `✏️ INC-${incident.id} (<#${incident.channel_id}>): ${what}.`);
  }

  async reminder(incident: IncidentRow, kind: 'update' | 'postmortem', lastUpdateAt: string | null): Promise<void> {
    const tz = this.deps.runbook.launch.timezone;
    if (kind === 'update') {
      const last = lastUpdateAt ? `the last one was at ${formatTime(lastUpdateAt, tz)}` : 'there has been none since it was declared';
      await this.post(incident.channel_id, `⏰ <@${incident.commander}> a status update for INC-${incident.id} is due (${last}): \`/golive incident update <status>\``);
    } else {
      const link = this.deps.postmortemLink?.(incident.id);
      const draft = link ? ` The draft golive wrote when it was resolved: <${link}|INC-${incident.id} post-mortem draft> (also posted here as a file; \`/golive incident postmortem\` posts it again).` : ' The draft golive posted here when it was resolved is a start; `/golive incident postmortem` posts it again.';
      await this.post(incident.channel_id, `📝 <@${incident.commander}> the post-mortem for INC-${incident.id} is due now.${draft}`);
      await this.post(this.deps.runbook.launch.channel, `📝 The post-mortem for INC-${incident.id} (${escapeText(incident.summary)}) is due: <#${incident.channel_id}>`);
    }
  }
}
