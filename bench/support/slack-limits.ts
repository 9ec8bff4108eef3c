// Slack's documented Block Kit limits (api.slack.com/reference/block-kit), checked
// over a rendered message or view. Returns one line per violation.

const LIMITS = {
  messageBlocks: 50,
  viewBlocks: 100,
  messageText: 40_000,
  sectionText: 3000,
  sectionFields: 10,
  fieldText: 2000,
  headerText: 150,
  contextElements: 10,
  actionsElements: 25,
  buttonText: 75,
  buttonValue: 2000,
  actionId: 255,
  blockId: 255,
};

type Obj = Record<string, unknown>;
const textOf = (t: unknown) => (t && typeof t === 'object' && typeof (t as Obj).text === 'string' ? ((t as Obj).text as string) : '');

export function slackLimitProblems(message: { text?: string; blocks: unknown[] }, surface: 'message' | 'view'): string[] {
  const out: string[] = [];
  const maxBlocks = surface === 'message' ? LIMITS.messageBlocks : LIMITS.viewBlocks;
  if (message.blocks.length > maxBlocks) out.push(`${message.blocks.length} blocks (limit ${maxBlocks})`);
  if ((message.text ?? '').length > LIMITS.messageText) out.push(`text of ${message.text!.length} characters (limit ${LIMITS.messageText})`);
  const blockIds = new Set<string>();
  message.blocks.forEach((raw, i) => {
    const b = raw as Obj;
    const at = `block ${i} (${String(b.type)})`;
    if (typeof b.block_id === 'string') {
      if (b.block_id.length > LIMITS.blockId) out.push(`${at}: block_id of ${b.block_id.length} characters`);
      if (blockIds.has(b.block_id)) out.push(`${at}: duplicate block_id ${b.block_id}`);
      blockIds.add(b.block_id);
    }
    if (b.type === 'section') {
      const text = textOf(b.text);
      if (text.length > LIMITS.sectionText) out.push(`${at}: text of ${text.length} characters (limit ${LIMITS.sectionText})`);
      if (!b.text && !b.fields) out.push(`${at}: neither text nor fields`);
      const fields = (b.fields as unknown[] | undefined) ?? [];
      if (fields.length > LIMITS.sectionFields) out.push(`${at}: ${fields.length} fields`);
      for (const f of fields) if (textOf(f).length > LIMITS.fieldText) out.push(`${at}: a field of ${textOf(f).length} characters`);
      if (b.accessory) out.push(...elementProblems(b.accessory as Obj, at));
    } else if (b.type === 'header') {
      const text = textOf(b.text);
      if (text.length > LIMITS.headerText) out.push(`${at}: header of ${text.length} characters (limit ${LIMITS.headerText})`);
    } else if (b.type === 'context') {
      const els = (b.elements as unknown[] | undefined) ?? [];
      if (els.length > LIMITS.contextElements) out.push(`${at}: ${els.length} elements`);
      for (const e of els) if (textOf(e).length > LIMITS.sectionText) out.push(`${at}: element text of ${textOf(e).length} characters`);
    } else if (b.type === 'actions') {
      const els = (b.elements as Obj[] | undefined) ?? [];
      if (els.length > LIMITS.actionsElements) out.push(`${at}: ${els.length} elements`);
      for (const e of els) out.push(...elementProblems(e, at));
    }
  });
  return out;
}

function elementProblems(e: Obj, at: string): string[] {
  const out: string[] = [];
  if (e.type !== 'button') return out;
  const text = textOf(e.text);
  if (text.length > LIMITS.buttonText) out.push(`${at}: button text of ${text.length} characters`);
  if (typeof e.value === 'string' && e.value.length > LIMITS.buttonValue) out.push(`${at}: button value of ${e.value.length} characters`);
  if (typeof e.action_id === 'string' && e.action_id.length > LIMITS.actionId) out.push(`${at}: action_id of ${e.action_id.length} characters`);
  return out;
}
