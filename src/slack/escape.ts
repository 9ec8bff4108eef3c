/**
 * Escapes text typed by a user before it is echoed into Slack, so it cannot
 * form links, mentions or `<!channel>` pings (Slack's three control characters).
 */
export function escapeText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Shortens text to `max` characters, marking the cut. */
export function clip(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
