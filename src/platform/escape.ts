/**
 * Escapes text typed by a person before golive echoes it into a Slack
 * message, modal or App Home, so it cannot form links, mentions or
 * `<!channel>` pings: Slack's three control characters become entities,
 * user mentions included (a typed `<@U123>` shows as text and pings nobody).
 * Mentions golive adds itself (owners, commander) are built from IDs, outside this.
 */
export function escapeText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Typed text for a channel topic. Slack does not format topics, so entities
 * would show literally: the angle brackets are replaced by look-alikes and
 * `@channel`, `@here`, `@everyone` get a word joiner after the `@`, so
 * nothing in it can become a mention or a link.
 */
export function topicText(s: string): string {
  return s.replace(/</g, '‹').replace(/>/g, '›').replace(/@(channel|here|everyone)\b/gi, '@\u2060$1');
}

/** Shortens text to `max` characters, marking the cut. */
export function clip(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
