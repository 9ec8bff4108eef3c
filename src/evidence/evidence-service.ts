import type { ChecklistService, ItemEvidenceSource } from '../checklist/index.js';
import type { Clock } from '../platform/clock.js';
import { GoliveError } from '../platform/errors.js';
import type { Logger } from '../platform/logger.js';
import type { Gate, Item, Runbook } from '../platform/runbook/schema.js';
import { AuditRepository } from '../platform/store/audit-repository.js';
import type { Store } from '../platform/store/store.js';
import { closestNames } from '../platform/suggest.js';
import { escapeText } from '../platform/escape.js';
import { decideEvidence, GOLIVE_ACTOR, type StoredEvidence } from './decide-evidence.js';
import type { EvidencePorts } from './evidence-session.js';
import { EvidenceRepository } from './evidence-repository.js';
import { runChecks } from './run-checks.js';

/** What ran a check. */
export type VerifyTrigger = 'signoff' | 'command' | 'schedule' | 'sandbox';

/** The channel side of evidence: posts queued inside the pass's transaction. */
export interface EvidenceNotifier {
  drift(item: Item, gate: Gate, e: StoredEvidence, signedBy: string | undefined): Promise<void>;
  recovered(item: Item, gate: Gate, e: StoredEvidence): Promise<void>;
}

/** One pass's outcome. */
export interface VerifyRun {
  items: { item: Item; gate: Gate; evidence: StoredEvidence }[];
  /** Port calls the pass made (each AWS question once). */
  calls: number;
  ms: number;
  autoSigned: string[];
  drifted: string[];
  recovered: string[];
}

type Target = { item: Item & { verify: NonNullable<Item['verify']> }; gate: Gate };

/**
 * Evidence checks for checklist items: runs them (outside any transaction),
 * stores each result with its time and text, and applies the one rule
 * (decideEvidence) for drift, recovery and auto sign-off. A pass is one
 * transaction for the results and their announcements; auto sign-offs go
 * through the checklist like anyone's, after it.
 */
export class EvidenceService implements ItemEvidenceSource {
  private notifier?: EvidenceNotifier;
  private readonly rows: EvidenceRepository;
  private readonly audit: AuditRepository;
  private readonly targets: Target[];

  constructor(
    private readonly deps: {
      runbook: Runbook;
      store: Store;
      ports: EvidencePorts;
      checklist: ChecklistService;
      clock: Clock;
      logger: Logger;
      /** After a pass that changed something: deliver the posts, refresh the boards. */
      afterCommit: () => void;
      timeoutMs?: number;
    },
  ) {
    this.rows = new EvidenceRepository(deps.store);
    this.audit = new AuditRepository(deps.store);
    this.targets = deps.runbook.gates.flatMap((gate) => gate.items.filter((i): i is Target['item'] => i.verify !== undefined).map((item) => ({ item, gate })));
  }

  notify(notifier: EvidenceNotifier): void {
    this.notifier = notifier;
  }

  /** Whether any item has a check. */
  get configured(): boolean {
    return this.targets.length > 0;
  }

  /** Every item with a check, in runbook order. */
  checked(): readonly Target[] {
    return this.targets;
  }

  /** The items `/golive verify [item|gate]` names: one item, a gate's checked items, or (no name) all. */
  resolve(name?: string): Target[] {
    if (!name) return [...this.targets];
    const key = name.trim().toLowerCase();
    const byItem = this.targets.filter((t) => t.item.id === key);
    if (byItem.length > 0) return byItem;
    if (this.deps.runbook.gates.some((g) => g.id === key)) {
      const inGate = this.targets.filter((t) => t.gate.id === key);
      if (inGate.length === 0) throw new GoliveError('usage', `No item of gate \`${key}\` has a check.`, 'Add `verify:` to an item in the runbook to have golive check it.');
      return inGate;
    }
    if (this.deps.runbook.gates.some((g) => g.items.some((i) => i.id === key))) throw new GoliveError('usage', `\`${key}\` has no check to run.`, 'Add `verify:` to the item in the runbook to have golive check it.');
    const names = [...this.targets.map((t) => t.item.id), ...new Set(this.targets.map((t) => t.gate.id))];
    const close = closestNames(key, names);
    throw new GoliveError('unknown_item', `There is no checked item or gate \`${escapeText(name.slice(0, 60))}\`.`, close.length > 0 ? `Did you mean ${close.map((c) => `\`${c}\``).join(' or ')}?` : `Checked items: ${this.targets.map((t) => `\`${t.item.id}\``).join(', ')}.`);
  }

  all(): Promise<Map<string, StoredEvidence>> {
    return this.rows.all();
  }

  async verifyForSignoff(item: Item, gate: Gate): Promise<StoredEvidence> {
    const target = this.targets.find((t) => t.item.id === item.id) ?? { item: item as Target['item'], gate };
    return (await this.verify([target], 'signoff', { autoSignoff: false })).items[0]!.evidence;
  }

  /** Runs the checks of these items now and records what they found. */
  async verify(targets: readonly Target[], trigger: VerifyTrigger, opts: { autoSignoff?: boolean } = {}): Promise<VerifyRun> {
    const { store, clock, runbook, checklist } = this.deps;
    const started = Date.now();
    const checks = await runChecks(
      targets.map((t) => t.item),
      this.deps.ports,
      { runbook, now: clock.now(), timeoutMs: this.deps.timeoutMs },
    );
    const at = clock.now().toISOString();
    const run: VerifyRun = { items: [], calls: checks.calls, ms: 0, autoSigned: [], drifted: [], recovered: [] };
    const autoSign: { id: string; evidence: StoredEvidence }[] = [];
    let changes = 0;
    await store.transaction(async () => {
      const signoffs = await checklist.signoffStates();
      for (const { item, gate } of targets) {
        const result = checks.results.get(item.id)!;
        const prior = await this.rows.get(item.id);
        const signoff = signoffs.get(item.id) ?? { done: false };
        const d = decideEvidence(item, prior, result, signoff, at, trigger);
        await this.rows.save(d.row);
        if (!prior || prior.outcome !== d.row.outcome) {
          await this.rows.addChange(d.row);
          changes++;
        }
        if (d.announce === 'drift') {
          run.drifted.push(item.id);
          await this.audit.record({ actor: GOLIVE_ACTOR, action: 'item.drift', target: item.id, detail: { gate: gate.id, evidence: { outcome: d.row.outcome, text: d.row.text }, signed_off_by: signoff.changedBy ?? null }, source: 'system', channel: runbook.launch.channel }, at);
          await this.notifier?.drift(item, gate, d.row, signoff.changedBy);
        } else if (d.announce === 'recovered') {
          run.recovered.push(item.id);
          await this.audit.record({ actor: GOLIVE_ACTOR, action: 'item.recovered', target: item.id, detail: { gate: gate.id, evidence: { outcome: d.row.outcome, text: d.row.text } }, source: 'system', channel: runbook.launch.channel }, at);
          await this.notifier?.recovered(item, gate, d.row);
        }
        if (d.autoSignoff && opts.autoSignoff !== false) autoSign.push({ id: item.id, evidence: d.row });
        run.items.push({ item, gate, evidence: d.row });
      }
    });
    for (const a of autoSign) if (await checklist.autoCheck(a.id, { outcome: a.evidence.outcome, text: a.evidence.text })) run.autoSigned.push(a.id);
    run.ms = Date.now() - started;
    // Boards and App Home show each result: refreshed when an outcome changed, not on every pass (chat.update is rate-limited).
    if (changes + run.autoSigned.length > 0) this.deps.afterCommit();
    this.deps.logger.info({ trigger, items: targets.length, calls: run.calls, ms: run.ms, drifted: run.drifted, recovered: run.recovered, autoSigned: run.autoSigned }, 'verification pass');
    return run;
  }

  /** The scheduled pass: every checked item. */
  verifyAll(trigger: VerifyTrigger = 'schedule'): Promise<VerifyRun> {
    return this.verify(this.targets, trigger);
  }
}
