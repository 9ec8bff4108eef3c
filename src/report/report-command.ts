import { GoliveError } from '../platform/errors.js';
import { renderNotice } from '../platform/slack/blocks.js';
import type { Runbook } from '../platform/runbook/schema.js';
import { command, type Command, type CommandSpec } from '../platform/commands/command-spec.js';
import type { ReportService } from './report-service.js';

export const reportSpec: CommandSpec = {
  name: 'report',
  usage: 'report [newlink]',
  description:
    'Posts the launch report in the ops channel: milestones, sign-offs by role, go/no-go votes and evidence, every deploy and rollback, the alarms and incidents, and the timeline drawn, as Markdown and a picture. `newlink` replaces the report page\'s secret link (the old one stops working).',
  sideEffects: true,
  who: 'anyone; `newlink`: anyone named in a runbook role',
  minArgs: 0,
  maxArgs: 1,
};

/** `/golive report [newlink]`. */
export function reportCommand(deps: { reports: ReportService; runbook: Runbook }): Command {
  const { reports, runbook } = deps;
  return command(reportSpec, async (ctx) => {
    const sub = ctx.args[0]?.toLowerCase();
    if (sub === 'newlink') {
      const url = await reports.newLink(ctx.userId);
      return ctx.respond(renderNotice(url ? `The report page has a new link: <${url}>. The old link no longer works. Share it only with the launch team: whoever has it can read the report.` : 'The report link was replaced. golive gives no address without GOLIVE_PUBLIC_URL.'));
    }
    if (sub !== undefined) throw new GoliveError('usage', `\`/golive report\` takes nothing or \`newlink\`. Nothing was posted.`, 'Usage: `/golive report [newlink]`');
    await reports.queueLaunchReport(ctx.userId, runbook.launch.channel);
    const url = reports.url();
    await ctx.respond(renderNotice(`The launch report is on its way to <#${runbook.launch.channel}>.${url ? ` It is always current at <${url}|the report page>.` : ''}`));
  });
}
