import { GoliveError } from '../platform/errors.js';
import { escapeText } from '../platform/escape.js';
import { formatTime } from '../platform/format-time.js';
import { renderNotice } from '../platform/slack/blocks.js';
import { declareModal, resolveModal, updateModal } from './incident-modals.js';
import type { Runbook } from '../platform/runbook/schema.js';
import type { SlackPort } from '../platform/slack/slack-port.js';
import type { IncidentService } from './incident-service.js';
import { describeIncidentEvent, type EventWriter } from './describe-incident-event.js';
import { command, type Command, type CommandContext, type CommandSpec } from '../platform/commands/command-spec.js';

const USAGE = 'incident declare [<P1-P4> <summary>] | update [text] | rootcause <text> | resolve [<root cause> [| resolution]] | severity <P1-P4> | commander @user | timeline | postmortem';

/** What `/golive incident` uses. */
interface IncidentCommandDeps {
  incidents: IncidentService;
  slack: Pick<SlackPort, 'openView'>;
  runbook: Runbook;
}

async function declare(ctx: CommandContext, deps: IncidentCommandDeps, words: string[]) {
  const [severity, ...summary] = words;
  if (words.length === 0 && ctx.triggerId && deps.incidents.configured) {
    return deps.slack.openView(ctx.triggerId, declareModal(deps.runbook, ctx.channelId));
  }
  if (!severity || summary.length === 0) throw new GoliveError('usage', '`/golive incident declare` needs a severity and a summary. Nothing was created.', 'Usage: `/golive incident declare <P1-P4> <summary>`');
  const text = ctx.rest.replace(/^declare\s+\S+\s*/i, '');
  const { incident, refusedInvites } = await deps.incidents.declare({ severity, summary: text, userId: ctx.userId, source: 'command' });
  const refused = refusedInvites.length > 0 ? `\nNot invited: ${refusedInvites.map((r) => (r.user === '*' ? r.error : `<@${r.user}> (${escapeText(r.error)})`)).join('; ')}.` : '';
  await ctx.respond(renderNotice(`INC-${incident.id} is open in <#${incident.channel_id}>; you are its commander.${refused}`));
}

export const incidentSpec: CommandSpec = {
  name: 'incident',
  usage: USAGE,
  description:
    'Declare an incident (its own channel, the initial template, the page), post numbered updates in its channel, resolve it (page resolved, the post-mortem draft posted in its channel, a reminder when it is due), show its timeline (📌 or the message shortcut "Add to incident timeline" adds a message to it), or post the post-mortem draft again. Reminders come when an update is due.',
  sideEffects: true,
  who: 'anyone',
  minArgs: 1,
};

/** `/golive incident …`: declare, update, resolve and the rest, in the incident's channel. */
export function incidentCommand(deps: IncidentCommandDeps): Command {
  return command(incidentSpec, async (ctx) => {
    const [sub = '', ...words] = ctx.args;
    const { incidents } = deps;
    const rest = ctx.rest.slice(sub.length).trim();
    switch (sub.toLowerCase()) {
      case 'declare':
        return declare(ctx, deps, words);
      case 'update': {
        const inc = await incidents.inChannel(ctx.channelId);
        if (!rest && ctx.triggerId && inc.state === 'open') return deps.slack.openView(ctx.triggerId, updateModal(inc.id, inc.updates + 1));
        await incidents.update(inc, rest, ctx.userId);
        return;
      }
      case 'resolve': {
        const inc = await incidents.inChannel(ctx.channelId);
        if (!rest && ctx.triggerId && inc.state === 'open') return deps.slack.openView(ctx.triggerId, resolveModal(inc.id));
        await incidents.resolve(inc, rest, ctx.userId);
        return;
      }
      case 'severity': {
        if (!words[0]) throw new GoliveError('usage', '`/golive incident severity` needs the new severity, e.g. `P1`.');
        await incidents.changeSeverity(await incidents.inChannel(ctx.channelId), words[0], ctx.userId);
        return;
      }
      case 'commander': {
        // Slack sends a mention as <@U123|name> (or <@U123>); the escape-mode setting decides which.
        const m = /^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$/.exec(words[0] ?? '');
        if (!m) throw new GoliveError('usage', '`/golive incident commander` needs a person, e.g. `/golive incident commander @meera`.');
        await incidents.changeCommander(await incidents.inChannel(ctx.channelId), m[1]!, ctx.userId);
        return;
      }
      case 'rootcause': {
        await incidents.recordRootCause(await incidents.inChannel(ctx.channelId), rest, ctx.userId);
        return;
      }
      case 'timeline': {
        const inc = await incidents.inChannel(ctx.channelId);
        const tz = deps.runbook.launch.timezone;
        const slack: EventWriter = { timezone: tz, person: (id) => (id === 'golive' || id === 'cloudwatch' ? id : `<@${id}>`), typed: escapeText, code: (t) => `\`${escapeText(t)}\`` };
        const lines = (await incidents.timeline(inc)).map((e) => `\`${formatTime(e.at, tz)}\` ${e.actor.startsWith('app:') ? escapeText(e.actor.slice(4)) : slack.person(e.actor)} ${describeIncidentEvent(e, slack)}`);
        return ctx.respond(renderNotice(`*INC-${inc.id} timeline*`, lines.join('\n')));
      }
      case 'postmortem': {
        const inc = await incidents.inChannel(ctx.channelId);
        await incidents.regeneratePostmortem(inc, ctx.userId);
        return ctx.respond(renderNotice(`The post-mortem draft of INC-${inc.id} is on its way to this channel, as the incident's record stands now.`));
      }
      default:
        throw new GoliveError('usage', `\`/golive incident\` does not know \`${escapeText(sub.slice(0, 20))}\`. Nothing was changed.`, `Usage: \`/golive ${USAGE}\``);
    }
  });
}
