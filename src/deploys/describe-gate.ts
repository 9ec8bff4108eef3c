/**
 * The refusal of a gated deploy, in words: how many things hold it, each of
 * them, where the alarm state came from and how old it was, and whether the
 * runbook lets an approver override it.
 */
export function gateRefusal(serviceName: string, blockedBy: readonly string[], overrideAllowed: boolean, alarmsSource?: string): { message: string; hint: string } {
  const lines = blockedBy.map((b) => `• ${b}`);
  if (alarmsSource) lines.push(`Alarms: ${alarmsSource}.`);
  if (overrideAllowed) lines.push('The runbook allows an override: add `--override` to ask an approver to let it through.');
  return {
    message: `Deploy of \`${serviceName}\` refused: ${blockedBy.length} thing${blockedBy.length > 1 ? 's' : ''} must be resolved first. Nothing was changed.`,
    hint: lines.join('\n'),
  };
}
