import type { Item } from '../platform/runbook/schema.js';
import type { CheckResult, Outcome } from './evidence.js';

/** An item's stored evidence: the last result and how it stands. */
export interface StoredEvidence {
  item_id: string;
  outcome: Outcome;
  text: string;
  checked_at: string;
  /** Since when the outcome has been what it is. */
  since: string;
  /** When the item's check started failing after it was signed off; null when not drifting. */
  drift_at: string | null;
  /** What ran the check: sign-off, command, schedule. */
  trigger: string;
}

/** The item's sign-off as the checklist has it. */
export interface SignoffState {
  done: boolean;
  /** When it was signed off (or last changed), by whom. */
  changedAt?: string;
  changedBy?: string;
}

/** What a new result means: the evidence to store, and what to announce or do. */
export interface EvidenceDecision {
  row: StoredEvidence;
  /** `drift`: a signed-off item's check started failing; `recovered`: a drifting item passes again. */
  announce?: 'drift' | 'recovered';
  /** Sign the item off "by golive": its check passes and it asks for that. */
  autoSignoff: boolean;
}

/** The actor golive records for what it does by itself. */
export const GOLIVE_ACTOR = 'golive';

/** Whether a signed-off item is drifting: its check started failing after the sign-off. */
export function isDrifting(e: Pick<StoredEvidence, 'drift_at'> | undefined, s: SignoffState): boolean {
  return s.done && !!e?.drift_at && (!s.changedAt || e.drift_at >= s.changedAt);
}

/**
 * The one rule for a new check result. Drift starts when the outcome turns to
 * fail while the item is signed off (a sign-off made while it was already
 * failing, with a note, is a decision, not drift); it ends on a pass, which is
 * announced, or when the item is taken back. ❔ unknown changes neither.
 * golive signs an `auto_signoff` item off when it passes, unless a person took
 * it back: then a person signs it again.
 */
export function decideEvidence(item: Item, prior: StoredEvidence | undefined, result: CheckResult, signoff: SignoffState, at: string, trigger: string): EvidenceDecision {
  const drifting = isDrifting(prior, signoff);
  let driftAt = drifting ? prior!.drift_at : null;
  let announce: EvidenceDecision['announce'];
  if (signoff.done && result.outcome === 'fail' && !drifting && prior?.outcome !== 'fail') {
    driftAt = at;
    announce = 'drift';
  } else if (drifting && result.outcome === 'pass') {
    driftAt = null;
    announce = 'recovered';
  }
  const takenBackByPerson = !signoff.done && signoff.changedBy !== undefined && signoff.changedBy !== GOLIVE_ACTOR;
  return {
    row: {
      item_id: item.id,
      outcome: result.outcome,
      text: result.text,
      checked_at: at,
      since: prior && prior.outcome === result.outcome ? prior.since : at,
      drift_at: driftAt,
      trigger,
    },
    ...(announce ? { announce } : {}),
    autoSignoff: item.auto_signoff === true && result.outcome === 'pass' && !signoff.done && !takenBackByPerson,
  };
}
