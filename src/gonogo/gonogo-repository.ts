import type { Runbook } from '../platform/runbook/schema.js';
import type { Store } from '../platform/store/store.js';

type Criterion = NonNullable<Runbook['gonogo']>['criteria'][number];

/** One criterion as evaluated: pass, fail, or unknown (the evidence could not be read). */
export interface CriterionResult {
  type: Criterion['type'];
  label: string;
  /** null: unknown, e.g. CloudWatch refused or returned no data. Unknown never counts as a pass. */
  pass: boolean | null;
  /** What was measured, e.g. "0.42 s (worst of 1 datapoint)". */
  value: string;
  /** Where it came from, e.g. "CloudWatch GetMetricData, ap-south-1, p95 per 48 h over the last 48 h". */
  source: string;
  /** A hard criterion must pass for a Go vote to be taken; absent in evidence recorded before criteria had weight. */
  hard?: boolean;
}

/** Every criterion at one moment. */
export interface Evidence {
  at: string;
  results: CriterionResult[];
  allPass: boolean;
}

export type Vote = 'go' | 'no_go';

/** A go/no-go decision: the card, its evidence and its outcome. */
export interface DecisionRow {
  id: number;
  state: 'open' | 'go' | 'no_go';
  opened_by: string;
  opened_at: string;
  evidence: Evidence;
  votes_required: number;
  channel: string;
  card_outbox_id: number | null;
  decided_at: string | null;
}

/** One voter's vote. */
export interface VoteRow {
  user_id: string;
  vote: Vote;
  note: string | null;
  at: string;
}

type RawDecision = Omit<DecisionRow, 'evidence'> & { evidence: string };
const parseDecision = (r: RawDecision): DecisionRow => ({ ...r, evidence: JSON.parse(r.evidence) as Evidence });

/** Go/no-go decisions (with the evidence the voters saw) and their votes. */
export class GoNoGoRepository {
  constructor(private readonly store: Store) {}

  async decision(id: number): Promise<DecisionRow | undefined> {
    const r = await this.store.get<RawDecision>('SELECT * FROM gonogo_decision WHERE id = ?', id);
    return r && parseDecision(r);
  }

  async openDecision(): Promise<DecisionRow | undefined> {
    const r = await this.store.get<RawDecision>("SELECT * FROM gonogo_decision WHERE state = 'open'");
    return r && parseDecision(r);
  }

  async latestId(): Promise<number | undefined> {
    return (await this.store.get<{ id: number | null }>('SELECT MAX(id) AS id FROM gonogo_decision'))?.id ?? undefined;
  }

  /** Opens a decision; returns its id. */
  async open(d: { openedBy: string; at: string; evidence: Evidence; votesRequired: number; channel: string }): Promise<number> {
    return (await this.store.get<{ id: number }>(
      "INSERT INTO gonogo_decision (state, opened_by, opened_at, evidence, votes_required, channel) VALUES ('open', ?, ?, ?, ?, ?) RETURNING id",
      d.openedBy,
      d.at,
      JSON.stringify(d.evidence),
      d.votesRequired,
      d.channel,
    ))!.id;
  }

  async setEvidence(id: number, evidence: Evidence): Promise<void> {
    await this.store.run('UPDATE gonogo_decision SET evidence = ? WHERE id = ?', JSON.stringify(evidence), id);
  }

  async setCard(id: number, outboxId: number): Promise<void> {
    await this.store.run('UPDATE gonogo_decision SET card_outbox_id = ? WHERE id = ?', outboxId, id);
  }

  /** Closes an open decision with its outcome. */
  async decide(id: number, outcome: 'go' | 'no_go', at: string): Promise<void> {
    await this.store.run("UPDATE gonogo_decision SET state = ?, decided_at = ? WHERE id = ? AND state = 'open'", outcome, at, id);
  }

  async addVote(decisionId: number, userId: string, vote: Vote, note: string | null, at: string): Promise<void> {
    await this.store.run('INSERT INTO gonogo_vote (decision_id, user_id, vote, note, at) VALUES (?, ?, ?, ?, ?)', decisionId, userId, vote, note, at);
  }

  /** Votes in the order they were cast (SQLite's rowid breaks ties within a millisecond). */
  async votes(decisionId: number): Promise<VoteRow[]> {
    return this.store.all<VoteRow>('SELECT user_id, vote, note, at FROM gonogo_vote WHERE decision_id = ? ORDER BY at, rowid', decisionId);
  }

  /** Every decision, oldest first (the launch report). */
  async decisions(): Promise<DecisionRow[]> {
    return (await this.store.all<RawDecision>('SELECT * FROM gonogo_decision ORDER BY id')).map(parseDecision);
  }
}
