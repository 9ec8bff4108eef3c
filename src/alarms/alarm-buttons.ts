import { escapeText } from '../platform/escape.js';
import { renderNotice } from '../platform/slack/blocks.js';
import type { SlackUi } from '../platform/slack/slack-ui.js';
import type { AlarmService } from './alarm-service.js';
import { ACTION_ALARM_ACK } from './render-alarms.js';

/** The Acknowledge button on an alarm post. */
export function registerAlarmButtons(ui: SlackUi, deps: { alarms: AlarmService }): void {
  ui.onButton(ACTION_ALARM_ACK, async ({ body, action, reply }) => {
    const name = action.value ?? '';
    const result = await deps.alarms.acknowledge(name, body.user.id);
    if (!result.ok) {
      const row = result.row;
      const why = !row
        ? `golive does not watch an alarm called \`${escapeText(name.slice(0, 200))}\`.`
        : row.state !== 'ALARM'
          ? `\`${escapeText(name)}\` is ${row.state} now; there is nothing to acknowledge.`
          : `\`${escapeText(name)}\` was already acknowledged by <@${row.acked_by}>.`;
      await reply(renderNotice(`${why} Nothing changed.`));
    }
  });
}
