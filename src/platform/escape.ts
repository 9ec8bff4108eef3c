/**
 * Escapes text typed by a user before it is echoed into Slack, so it cannot
 * form links, mentions or `<!channel>` pings (Slack's three control characters).
 */
export function escapeText(s: string): string {
  // A user mention (<@U123> or <@U123|name>, as Slack sends @someone) stays a mention: it cannot ping a channel.
  return s
    .split(/(<@[UW][A-Z0-9]+(?:\|[^<>&]{0,80})?>)/)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')))
    .join('');
}

/** Escapes everything, mentions included: for echoing back an identifier someone mistyped. */
export function escapeAll(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Shortens text to `max` characters, marking the cut. */
export function clip(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
