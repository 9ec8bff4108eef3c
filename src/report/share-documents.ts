import { escapeText } from '../platform/escape.js';
import { ymd } from '../platform/format-time.js';
import type { Outbox } from '../platform/outbox/outbox.js';
import type { SlackPort } from '../platform/slack/slack-port.js';
import { renderPng } from './render-png.js';
import { renderPostmortemMarkdown } from './render-postmortem.js';
import { renderReportMarkdown } from './render-report.js';
import { renderTimelineSvg } from './render-timeline-svg.js';
import { dayAndTime } from './report-text.js';
import type { ReportService } from './report-service.js';

/** The PNG is drawn at twice the SVG's size: Slack shows it inline, and phones have dense screens. */
export const PNG_SCALE = 2;

/**
 * The outbox's deliverer for `document` rows: renders the launch report or a
 * post-mortem draft as the records stand at delivery and shares the files in
 * Slack (files.uploadV2's steps), so a Slack outage delays them but does not
 * lose them.
 */
export function shareDocuments(deps: { reports: ReportService; slack: SlackPort; outbox: Outbox }): void {
  const { reports, slack, outbox } = deps;
  outbox.deliver('document', async (kind, args) => {
    // The outbox may deliver before the start job has loaded the link.
    await reports.ready();
    const channel = String(args.channel);
    const by = String(args.by ?? 'golive');
    if (kind === 'launch') {
      const report = await reports.launchReport(by);
      const tz = report.launch.timezone;
      const day = ymd(new Date(report.generatedAt), tz);
      const link = reports.url();
      const { fileIds } = await slack.shareFiles({
        channel,
        initialComment: `📄 *Launch report — ${escapeText(report.launch.name)}*, as of ${dayAndTime(report.generatedAt, tz)} (asked for by <@${by}>): the Markdown pastes into a wiki or a pull request; the picture is the timeline.${link ? ` Always current, and printable to PDF, at <${link}|the report page> — the link is the key: share it only with the launch team.` : ''}`,
        files: [
          { filename: `launch-report-${day}.md`, title: `Launch report — ${report.launch.name}`, content: Buffer.from(renderReportMarkdown(report, { timelineSrc: reports.url('timeline.png') }), 'utf8') },
          { filename: `launch-timeline-${day}.png`, title: `Timeline — ${report.launch.name}`, content: renderPng(renderTimelineSvg(report), PNG_SCALE), altText: `Timeline of ${report.launch.name}: milestones, deploys, alarms and incidents, T-0 marked` },
        ],
      });
      return { fileIds };
    }
    if (kind === 'postmortem') {
      const draft = await reports.postmortemDraft(Number(args.incident));
      const link = reports.url(`INC-${draft.incident.id}-postmortem.html`);
      const { fileIds } = await slack.shareFiles({
        channel,
        initialComment: `📝 *Post-mortem draft for INC-${draft.incident.id}*: the timeline, root cause and resolution as recorded, the deploys and alarms around it and what was paged; the lessons and follow-ups are left for you.${link ? ` Current version: <${link}|the draft page>.` : ''} \`/golive incident postmortem\` posts it again.`,
        files: [{ filename: `INC-${draft.incident.id}-postmortem.md`, title: `Post-mortem draft — INC-${draft.incident.id}`, content: Buffer.from(renderPostmortemMarkdown(draft), 'utf8') }],
      });
      return { fileIds };
    }
    throw new Error(`unknown document kind ${kind}`);
  });
}
