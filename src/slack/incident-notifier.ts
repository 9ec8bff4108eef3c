import type { Clock } from '../clock.js';
import { PARENT_CHANNEL, PARENT_TS } from '../outbox.js';
import type { Runbook } from '../runbook/schema.js';
import type { IncidentNotifier, IncidentRow } from '../services/incidents.js';
import type { Store } from '../../store/store.js';
import { escapeText } from './escape.js';
import { formatTime } from './render.js';

/** Incident posts, stored in the outbox inside the incident change's transaction. */
export class SlackIncidentNotifier implements IncidentNotifier {
  constructor(private readonly deps: { runbook: Runbook; store: Store; clock: Clock }) {}

  private post(channel: string, text: string, extra: Record<string, unknown> = {}): number {
    return this.deps.store.enqueue('chat.postMessage', { channel, text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: text.slice(0, 3000) } }], unfurl_links: false, ...extra }, this.deps.clock.now().toISOString());
  }

  declared(incident: IncidentRow, initial: string, alarmPost: number | null): void {
    this.post(incident.channel_id, initial);
    const sev = this.deps.runbook.incidents?.severities[incident.severity];
    this.post(this.deps.runbook.launch.channel, `🚨 *INC-${incident.id} declared* (${incident.severity}${sev ? ` ${escapeText(sev.name)}` : ''}) by <@${incident.declared_by}>: ${escapeText(incident.summary)} → <#${incident.channel_id}>`);
    if (alarmPost !== null) {
      this.deps.store.enqueue('chat.postMessage', { channel: PARENT_CHANNEL, thread_ts: PARENT_TS, text: `🚨 Incident INC-${incident.id} declared for this alarm: <#${incident.channel_id}>` }, this.deps.clock.now().toISOString(), { dependsOn: alarmPost });
    }
  }

  updated(incident: IncidentRow, update: string, shortLine: string): void {
    this.post(incident.channel_id, update);
    this.post(this.deps.runbook.launch.channel, `${shortLine} (<#${incident.channel_id}>)`);
  }

  resolved(incident: IncidentRow, resolved: string): void {
    this.post(incident.channel_id, resolved);
    this.post(this.deps.runbook.launch.channel, `✅ *INC-${incident.id} resolved* by <@${incident.resolved_by}>: ${escapeText(incident.summary)} (<#${incident.channel_id}>)`);
  }

  reminder(incident: IncidentRow, kind: 'update' | 'postmortem', lastUpdateAt: string | null): void {
    const tz = this.deps.runbook.launch.timezone;
    if (kind === 'update') {
      const last = lastUpdateAt ? `the last one was at ${formatTime(lastUpdateAt, tz)}` : 'there has been none since it was declared';
      this.post(incident.channel_id, `⏰ <@${incident.commander}> a status update for INC-${incident.id} is due (${last}): \`/golive incident update <status>\``);
    } else {
      this.post(incident.channel_id, `📝 <@${incident.commander}> the post-mortem for INC-${incident.id} is due now.`);
      this.post(this.deps.runbook.launch.channel, `📝 The post-mortem for INC-${incident.id} (${escapeText(incident.summary)}) is due: <#${incident.channel_id}>`);
    }
  }
}
