import type { AlarmService } from '../alarms/index.js';
import type { ChangeBoard, DeployService } from '../deploys/index.js';
import { GoliveError } from '../platform/errors.js';
import { escapeText } from '../platform/escape.js';
import type { Runbook } from '../platform/runbook/schema.js';
import { renderNotice } from '../platform/slack/blocks.js';
import { buttonId, field, type SlackUi } from '../platform/slack/slack-ui.js';
import { ACTION_ALARM_DECLARE } from '../alarms/index.js';
import { VIEW_DECLARE, VIEW_RESOLVE, VIEW_UPDATE } from './incident-modals.js';
import { ACTION_INCIDENT_ACK, ACTION_INCIDENT_ROLLBACK } from './incident-notifier.js';
import type { IncidentService } from './incident-service.js';

/** Declare incident (on an alarm post), Acknowledge, Roll back now?, and the declare/update/resolve modals. */
export function registerIncidentButtons(ui: SlackUi, deps: { runbook: Runbook; incidents: IncidentService; alarms: AlarmService; deploys: DeployService; changeBoard: ChangeBoard }): void {
  const { runbook, incidents, alarms, deploys, changeBoard } = deps;

  ui.onButton(ACTION_ALARM_DECLARE, async ({ body, action, reply }) => {
    const name = action.value ?? '';
    const row = await alarms.row(name);
    if (!row?.fired_at) throw new GoliveError('usage', `golive has no firing of \`${escapeText(name.slice(0, 200))}\` to declare an incident for.`);
    const severity = incidents.severityForAlarm(alarms.ruleFor(name).incident);
    const { incident } = await incidents.declare({
      severity,
      summary: `${name}: ${row.reason}`,
      userId: body.user.id,
      source: 'button',
      alarm: { name, firedAt: row.fired_at, post: row.post_outbox_id },
    });
    await reply(renderNotice(`INC-${incident.id} (${severity}) is open in <#${incident.channel_id}>; you are its commander.`));
  });

  ui.onButton(ACTION_INCIDENT_ACK, async ({ body, action, reply }) => {
    const { ok, incident } = await incidents.acknowledge(buttonId(action.value, 'incident'), body.user.id);
    if (!ok) await reply(renderNotice(incident.state !== 'open' ? `INC-${incident.id} is resolved; nothing to acknowledge.` : `INC-${incident.id} was already acknowledged by <@${incident.acked_by}>; nothing changed.`));
  });

  ui.onButton(ACTION_INCIDENT_ROLLBACK, async ({ body, action, reply }) => {
    const [id, service = ''] = (action.value ?? '').split(':');
    const inc = await incidents.get(Number(id));
    if (inc.state !== 'open' || inc.root_cause) {
      return await reply(renderNotice(`INC-${inc.id} ${inc.state !== 'open' ? 'is resolved' : 'has a root cause recorded'}; no rollback was requested. Use \`/golive rollback ${escapeText(service)}\` if one is still needed.`));
    }
    const request = await deploys.proposeRollback(service, [`INC-${Number(id)} has no root cause yet`], body.user.id, 'button');
    await changeBoard.postRequest(request);
    await reply(renderNotice(`Rollback request #${request.id} for \`${escapeText(service)}\` is posted in the ops channel for approval.`));
  });

  ui.onSubmit(VIEW_DECLARE, { block: 'summary', message: 'An incident needs a summary.' }, async (values, userId, metadata) => ({
    channel: metadata || runbook.launch.channel,
    work: async () => {
      const { incident } = await incidents.declare({ severity: field(values, 'severity'), summary: field(values, 'summary'), services: field(values, 'services'), userId, source: 'command' });
      return `INC-${incident.id} is open in <#${incident.channel_id}>; you are its commander.`;
    },
  }));

  ui.onSubmit(VIEW_UPDATE, { block: 'status', message: 'Say where things stand.' }, async (values, userId, metadata) => {
    const incident = await incidents.get(Number(metadata));
    return {
      channel: incident.channel_id,
      work: async () => {
        const updated = await incidents.update(incident, { status: field(values, 'status'), actions: field(values, 'actions'), next_steps: field(values, 'next_steps'), eta: field(values, 'eta') }, userId);
        return `Update #${updated.updates} is posted.`;
      },
    };
  });

  ui.onSubmit(VIEW_RESOLVE, { block: 'root_cause', message: 'Resolving needs the root cause.' }, async (values, userId, metadata) => {
    const incident = await incidents.get(Number(metadata));
    return {
      channel: incident.channel_id,
      work: async () => {
        await incidents.resolve(incident, { rootCause: field(values, 'root_cause'), resolution: field(values, 'resolution') }, userId);
        return `INC-${incident.id} is resolved.`;
      },
    };
  });
}
