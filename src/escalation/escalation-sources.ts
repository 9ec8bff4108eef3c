import { alarmConsoleUrl, alarmDedupKey, type AlarmService } from '../alarms/index.js';
import { incidentDedupKey, severityLabel, type IncidentService } from '../incidents/index.js';
import type { Runbook } from '../platform/runbook/schema.js';
import type { EscalationCandidate, EscalationSources } from './escalation-service.js';

/**
 * Where escalation candidates come from: the open incidents whose severity
 * has levels, and the firing alarms whose rule has levels (each firing its
 * own subject, so a new firing escalates from the start). Levels decided for
 * an incident go in its timeline.
 */
export function escalationSources(deps: { runbook: Runbook; incidents: IncidentService; alarms: AlarmService }): EscalationSources {
  const { runbook, incidents, alarms } = deps;
  return {
    async candidates() {
      const out: EscalationCandidate[] = [];
      if (incidents.configured) {
        for (const i of await incidents.open()) {
          const def = runbook.incidents?.severities[i.severity];
          if (!def || def.escalation.length === 0) continue;
          out.push({
            subject: { kind: 'incident', key: `incident:${i.id}`, startedAt: i.declared_at, ...(i.acked_at ? { acknowledgedAt: i.acked_at } : {}), levels: def.escalation },
            about: { kind: 'incident', id: i.id, severity: i.severity, severityName: severityLabel(i.severity, def.name), summary: i.summary, channelId: i.channel_id, channelName: i.channel_name, commander: i.commander, startedAt: i.declared_at },
            dedupKey: incidentDedupKey(i.id),
            target: `INC-${i.id}`,
          });
        }
      }
      if (alarms.configured) {
        for (const a of await alarms.list()) {
          if (a.state !== 'ALARM' || !a.fired_at) continue;
          const rule = alarms.ruleFor(a.name);
          if (!rule.escalation || rule.escalation.length === 0) continue;
          const region = a.region ?? alarms.region();
          out.push({
            subject: { kind: 'alarm', key: `alarm:${a.name}@${a.fired_at}`, startedAt: a.fired_at, ...(a.acked_at ? { acknowledgedAt: a.acked_at } : {}), levels: rule.escalation },
            about: { kind: 'alarm', name: a.name, severity: rule.severity, reason: a.reason, region, startedAt: a.fired_at, consoleUrl: alarmConsoleUrl(region, a.name) },
            dedupKey: alarmDedupKey(region, a.name),
            target: a.name,
          });
        }
      }
      return out;
    },
    async recorded(c, level, fired, detail, at) {
      if (c.about.kind === 'incident') await incidents.recordEvent(c.about.id, fired ? 'escalation.level' : 'escalation.skipped', { level: level + 1, ...detail }, at);
    },
  };
}
