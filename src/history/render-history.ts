import type { AuditRow } from '../platform/store/audit-repository.js';
import { formatTime } from '../platform/format-time.js';
import { MAX_MESSAGE_BLOCKS, renderNotice, sections } from '../platform/slack/blocks.js';
import type { SlackMessage } from '../platform/slack/slack-port.js';
import { describeAuditRow, type HistoryContext } from './describe-audit.js';

/** The audit trail, newest first, one sentence per change. */
export function renderHistory(rows: AuditRow[], ctx: HistoryContext, requested: number): SlackMessage {
  if (rows.length === 0) return renderNotice('Nothing has happened yet: the audit trail is empty.');
  const lines = rows.map((r) => {
    const where = r.source === 'button' ? 'button' : r.source === 'command' ? 'command' : 'automatic';
    const channel = r.channel ? ` in <#${r.channel}>` : '';
    return `\`${formatTime(r.at, ctx.timezone)}\` ${describeAuditRow(r, ctx)} _(${where}${channel})_`;
  });
  const title = `*Audit trail — last ${rows.length}${rows.length < requested ? ` (all there is)` : ''}, newest first*`;
  return { text: [title, ...lines].join('\n'), blocks: sections([title, ...lines]).slice(0, MAX_MESSAGE_BLOCKS) };
}
