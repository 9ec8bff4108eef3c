/*
 * Slack's Block Kit limits, as Slack enforces them on chat.postMessage,
 * chat.update, chat.postEphemeral and views.*: the sandbox rejects what Slack
 * would reject, and the tests' fake Slack uses the same checks.
 */

type Body = Record<string, unknown>;

/** A Slack error body, with `response_metadata.messages` when there are any. */
export function slackError(error: string, messages?: string[]): Body {
  return messages && messages.length > 0
    ? { ok: false, error, response_metadata: { messages } }
    : { ok: false, error };
}

const err = slackError;

function isMissing(v: unknown): boolean {
  return v === undefined || v === null || v === '';
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function textOf(obj: unknown): string | undefined {
  return isObject(obj) && typeof obj.text === 'string' ? obj.text : undefined;
}

export const MAX_MESSAGE_BLOCKS = 50;
export const MAX_VIEW_BLOCKS = 100;
export const MAX_TEXT = 40_000;

/**
 * Checks the Block Kit limits Slack rejects with `invalid_blocks`, returning Slack-style messages.
 * Limits are from Slack's Block Kit reference; only the ones a renderer plausibly hits are checked.
 */
export function blockErrors(blocks: unknown, maxBlocks: number): string[] {
  if (!Array.isArray(blocks)) return ['[ERROR] must be an array [json-pointer:/blocks]'];
  const errors: string[] = [];
  if (blocks.length > maxBlocks) {
    errors.push(`[ERROR] no more than ${maxBlocks} items allowed [json-pointer:/blocks]`);
  }
  const tooLong = (s: string | undefined, max: number, ptr: string): void => {
    if (s !== undefined && s.length > max) errors.push(`[ERROR] must be less than ${max + 1} characters [json-pointer:${ptr}]`);
  };
  const empty = (s: string | undefined, ptr: string): void => {
    if (s === undefined || s.length === 0) errors.push(`[ERROR] must be more than 0 characters [json-pointer:${ptr}]`);
  };
  const checkElement = (el: unknown, ptr: string): void => {
    if (!isObject(el) || typeof el.type !== 'string') {
      errors.push(`[ERROR] missing required field: type [json-pointer:${ptr}]`);
      return;
    }
    if (typeof el.action_id === 'string') tooLong(el.action_id, 255, `${ptr}/action_id`);
    if (el.type === 'button') {
      const t = textOf(el.text);
      empty(t, `${ptr}/text/text`);
      tooLong(t, 75, `${ptr}/text/text`);
      if (typeof el.value === 'string') tooLong(el.value, 2000, `${ptr}/value`);
      if (typeof el.url === 'string') tooLong(el.url, 3000, `${ptr}/url`);
    }
  };
  const blockIds = new Set<string>();
  blocks.forEach((block: unknown, i) => {
    const ptr = `/blocks/${i}`;
    if (!isObject(block) || typeof block.type !== 'string') {
      errors.push(`[ERROR] missing required field: type [json-pointer:${ptr}]`);
      return;
    }
    if (typeof block.block_id === 'string') {
      tooLong(block.block_id, 255, `${ptr}/block_id`);
      if (blockIds.has(block.block_id)) errors.push(`[ERROR] duplicate block_id [json-pointer:${ptr}/block_id]`);
      blockIds.add(block.block_id);
    }
    switch (block.type) {
      case 'section': {
        const fields = block.fields;
        if (block.text === undefined && fields === undefined) {
          errors.push(`[ERROR] must provide either text or fields [json-pointer:${ptr}]`);
        }
        if (block.text !== undefined) {
          const t = textOf(block.text);
          empty(t, `${ptr}/text/text`);
          tooLong(t, 3000, `${ptr}/text/text`);
        }
        if (Array.isArray(fields)) {
          if (fields.length > 10) errors.push(`[ERROR] no more than 10 items allowed [json-pointer:${ptr}/fields]`);
          fields.forEach((f: unknown, j) => tooLong(textOf(f), 2000, `${ptr}/fields/${j}/text`));
        }
        if (block.accessory !== undefined) checkElement(block.accessory, `${ptr}/accessory`);
        break;
      }
      case 'header': {
        const t = textOf(block.text);
        if (!isObject(block.text) || block.text.type !== 'plain_text') {
          errors.push(`[ERROR] must be a plain_text object [json-pointer:${ptr}/text]`);
        }
        empty(t, `${ptr}/text/text`);
        tooLong(t, 150, `${ptr}/text/text`);
        break;
      }
      case 'context': {
        const els = Array.isArray(block.elements) ? block.elements : [];
        if (els.length === 0) errors.push(`[ERROR] must provide at least 1 item [json-pointer:${ptr}/elements]`);
        if (els.length > 10) errors.push(`[ERROR] no more than 10 items allowed [json-pointer:${ptr}/elements]`);
        els.forEach((el: unknown, j) => tooLong(textOf(el), 3000, `${ptr}/elements/${j}/text`));
        break;
      }
      case 'actions': {
        const els = Array.isArray(block.elements) ? block.elements : [];
        if (els.length === 0) errors.push(`[ERROR] must provide at least 1 item [json-pointer:${ptr}/elements]`);
        if (els.length > 25) errors.push(`[ERROR] no more than 25 items allowed [json-pointer:${ptr}/elements]`);
        els.forEach((el: unknown, j) => checkElement(el, `${ptr}/elements/${j}`));
        break;
      }
      default:
        break;
    }
  });
  return errors;
}

/** Shared message checks for postMessage / postEphemeral / update; `undefined` means fine. */
export function messageContentError(args: Body, requireContent: boolean): Body | undefined {
  const text = args.text;
  const blocks = args.blocks;
  if (requireContent && isMissing(text) && isMissing(blocks) && isMissing(args.attachments)) return err('no_text');
  if (typeof blocks === 'string') return err('invalid_blocks_format');
  if (blocks !== undefined) {
    const problems = blockErrors(blocks, MAX_MESSAGE_BLOCKS);
    if (problems.length > 0) return err(Array.isArray(blocks) ? 'invalid_blocks' : 'invalid_blocks_format', problems);
  }
  if (typeof text === 'string' && text.length > MAX_TEXT) return err('msg_too_long');
  return undefined;
}

export function viewError(view: unknown, allowedTypes: string[]): Body | undefined {
  if (!isObject(view)) return err('invalid_arguments', ['[ERROR] failed to match all allowed schemas [json-pointer:/view]']);
  if (typeof view.type !== 'string' || !allowedTypes.includes(view.type)) {
    return err('invalid_arguments', [`[ERROR] must be one of ${allowedTypes.join(', ')} [json-pointer:/view/type]`]);
  }
  if (view.type === 'modal') {
    const title = textOf(view.title);
    if (title === undefined) return err('invalid_arguments', ['[ERROR] missing required field: title [json-pointer:/view]']);
    if (title.length > 24) {
      return err('invalid_arguments', ['[ERROR] must be less than 25 characters [json-pointer:/view/title/text]']);
    }
  }
  const problems = blockErrors(view.blocks ?? [], MAX_VIEW_BLOCKS);
  if (problems.length > 0) return err('invalid_blocks', problems);
  return undefined;
}

