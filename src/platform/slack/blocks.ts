import type { ErrorReport } from '../errors.js';
import { clip } from '../escape.js';
import type { SlackMessage } from './slack-port.js';

/*
 * Block Kit primitives every feature builds its messages from. Slack's limits
 * drive the shapes: 50 blocks per message (100 in a Home tab view), 3000
 * characters per section text, 75 per button label, 2000 per button value.
 */
export const MAX_MESSAGE_BLOCKS = 50;
export const MAX_HOME_BLOCKS = 100;
export const MAX_SECTION_CHARS = 3000;

/** One Block Kit block. */
export type Block = Record<string, unknown>;

export function section(text: string, accessory?: Block): Block {
  return accessory ? { type: 'section', text: { type: 'mrkdwn', text: clip(text, MAX_SECTION_CHARS) }, accessory } : { type: 'section', text: { type: 'mrkdwn', text: clip(text, MAX_SECTION_CHARS) } };
}

export function context(text: string): Block {
  return { type: 'context', elements: [{ type: 'mrkdwn', text: clip(text, MAX_SECTION_CHARS) }] };
}

export function button(text: string, actionId: string, value: string, style?: 'primary' | 'danger'): Block {
  return { type: 'button', text: { type: 'plain_text', text: clip(text, 75), emoji: true }, action_id: actionId, value, ...(style ? { style } : {}) };
}

/** Joins lines into as few sections as fit in Slack's per-section limit. */
export function sections(lines: string[]): Block[] {
  const out: Block[] = [];
  let cur = '';
  for (const line of lines) {
    const l = clip(line, MAX_SECTION_CHARS);
    if (cur && cur.length + 1 + l.length > MAX_SECTION_CHARS) {
      out.push(section(cur));
      cur = l;
    } else cur = cur ? `${cur}\n${l}` : l;
  }
  if (cur) out.push(section(cur));
  return out;
}

/** A private reply: a message and optional hint. */
export function renderNotice(message: string, hint?: string): SlackMessage {
  const text = hint ? `${message}\n${hint}` : message;
  return { text, blocks: sections([message, ...(hint ? [hint] : [])]) };
}

/** The private reply for an error. */
export function renderError(report: ErrorReport): SlackMessage {
  return renderNotice(`:warning: ${report.message}`, report.hint);
}
