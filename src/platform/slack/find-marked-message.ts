import type { SlackPort } from './slack-port.js';

/** Where a message was posted: a channel, or a thread in it. */
export interface PostedWhere {
  channel: string;
  threadTs?: string;
}

/**
 * The message golive posted with metadata of `eventType` whose payload
 * `matches`, if Slack has it (with that payload): the channel's recent history (3 pages of 100),
 * or the whole thread (10 pages of 200) for a reply. How a post whose answer
 * was lost is found instead of being posted twice. Errors are the caller's.
 */
export async function findMarkedMessage(
  call: SlackPort['call'],
  where: PostedWhere,
  eventType: string,
  matches: (payload: Record<string, unknown>) => boolean,
): Promise<{ ts: string; channel: string; payload: Record<string, unknown> } | undefined> {
  const { channel, threadTs } = where;
  let cursor: string | undefined;
  for (let page = 0; page < (threadTs ? 10 : 3); page++) {
    const res = threadTs
      ? await call('conversations.replies', { channel, ts: threadTs, include_all_metadata: true, limit: 200, ...(cursor ? { cursor } : {}) })
      : await call('conversations.history', { channel, include_all_metadata: true, limit: 100, ...(cursor ? { cursor } : {}) });
    for (const m of Array.isArray(res.messages) ? (res.messages as Record<string, unknown>[]) : []) {
      const meta = m.metadata as { event_type?: unknown; event_payload?: Record<string, unknown> } | undefined;
      if (meta?.event_type === eventType && meta.event_payload && matches(meta.event_payload) && typeof m.ts === 'string') return { ts: m.ts, channel, payload: meta.event_payload };
    }
    cursor = (res.response_metadata as { next_cursor?: string } | undefined)?.next_cursor;
    if (res.has_more !== true || !cursor) break;
  }
  return undefined;
}
