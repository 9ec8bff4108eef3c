import type { ChecklistSnapshot } from '../checklist/index.js';
import type { DecisionRow, VoteRow } from './gonogo-service.js';
import { decisionLine } from './render-gonogo.js';

/**
 * The one verdict line of the launch, shown by `/golive status`, App Home and
 * the checklist announcements: the checklist's verdict (`checklistLine`) and
 * the latest go/no-go decision folded together, so a screen never shows a GO
 * next to a contradicting NO-GO.
 */
export function launchVerdict(snapshot: ChecklistSnapshot, checklistLine: string, latest: { decision: DecisionRow; votes: VoteRow[] } | undefined, tz: string): string {
  if (!latest) return checklistLine;
  const { decision, votes } = latest;
  const line = decisionLine(decision, votes, tz);
  if (decision.state === 'open') return `${checklistLine} · ${line}`;
  const v = snapshot.verdict;
  const open = v.kind === 'blocked' ? `${v.openBlockers} blocker${v.openBlockers > 1 ? 's' : ''} open` : undefined;
  if (decision.state === 'no_go') return open ? `${line.replace(/\.$/, '')} · ${open}.` : line;
  // A blocker reopened after the GO: the GO no longer holds, and the line says so instead of showing both.
  if (open) return `🔴 *${open} — NO-GO until resolved* (the GO of go/no-go decision #${decision.id} no longer holds)`;
  return line;
}
