// The fake Slack in a process of its own, so that parsing golive's Web API calls
// (a status board is ~20 KB of blocks) does not run on the event loop that
// times the requests. The parent asks for tallies over IPC; the recordings
// themselves are counted and dropped every 200 ms to keep this process small.
import type { RecordedEntry } from '../../test/support/fake-slack.js';
import { benchSlack } from './env.js';

/** What the parent can ask for. */
export interface SlackTally {
  /** Calls and response_url posts received so far (grows while golive is busy). */
  activity: number;
  /** `/golive status` boards posted (chat.postMessage with the status header). */
  statusPosts: number;
  /** Private replies to an approver who had already approved. */
  duplicateApprovals: number;
  /** Private replies to a check or uncheck that found the item already so ("…; nothing changed."). */
  unchanged: number;
  /** The text of the reply to the rollback request, and the card it posted. */
  rollbackReply?: string;
  card?: { ts: string; blocks: unknown[] };
}

const slack = await benchSlack();
const tally: SlackTally = { activity: 0, statusPosts: 0, duplicateApprovals: 0, unchanged: 0 };

function drain(): void {
  const entries: RecordedEntry[] = [...slack.calls, ...slack.responses];
  slack.calls.length = 0;
  slack.responses.length = 0;
  tally.activity += entries.length;
  for (const e of entries) {
    if (e.kind === 'call' && e.method === 'chat.postMessage') {
      const text = String(e.args.text);
      if (Array.isArray(e.args.blocks) && JSON.stringify(e.args.blocks[0]).includes('🚀')) tally.statusPosts += 1;
      else if (text.startsWith('Rollback of api') && !tally.card) {
        const ts = (e.result as { ts: string }).ts;
        tally.card = { ts, blocks: slack.messages.get(`C0OPS:${ts}`)?.blocks ?? [] };
      }
    } else if (e.kind === 'response') {
      const text = String(e.body?.text);
      if (e.id === 'rollback-request') tally.rollbackReply = text;
      else if (text.includes('already approved this request')) tally.duplicateApprovals += 1;
      else if (/already signed off by|is not signed off/.test(text)) tally.unchanged += 1;
    }
  }
}

setInterval(drain, 200).unref();
process.on('message', (msg) => {
  if (msg !== 'tally') return;
  drain();
  process.send?.({ tally });
});
process.on('disconnect', () => void slack.close().then(() => process.exit(0)));
process.send?.({ ready: { url: slack.url, responseBase: slack.responseUrl('').replace(/\/$/, '') } });
