import type { Clock } from '../platform/clock.js';
import { GoliveError } from '../platform/errors.js';
import type { Gate, Item, ItemLevel, Runbook } from '../platform/runbook/schema.js';
import { AuditRepository, type AuditSource } from '../platform/store/audit-repository.js';
import type { Store } from '../platform/store/store.js';
import { ChecklistRepository, type ItemStateRow, type SignoffRow } from './checklist-repository.js';
import { escapeText } from '../platform/escape.js';
import { closestNames } from '../platform/suggest.js';
import type { RoleDirectory } from '../platform/roles/resolve-roles.js';
import { GOLIVE_ACTOR, isDrifting, type SignoffState, type StoredEvidence } from '../evidence/index.js';

/** Who did something, and from where. */
export interface Actor {
  userId: string;
  source: AuditSource;
  channel?: string | null;
}

/** A checklist change, emitted inside the transaction that makes it. */
export type ChecklistEvent =
  | { type: 'item_checked'; item: Item; gate: Gate; by: string; at: string; note: string | null; evidence?: Pick<StoredEvidence, 'outcome' | 'text'>; again?: boolean }
  | { type: 'item_unchecked'; item: Item; gate: Gate; by: string; at: string; reason: string | null; revokedSignoffs: SignoffRow[] }
  | { type: 'gate_signed'; gate: Gate; roles: string[]; by: string; at: string; complete: boolean };

/**
 * Receives checklist events inside the change's transaction, so whatever it
 * stores (e.g. the channel announcement in the outbox) commits or rolls back
 * with the change itself. It may only do database work (no Slack call).
 */
export type ChecklistListener = (event: ChecklistEvent) => Promise<void> | void;

/** One item and its current state. */
export interface ItemStatus {
  item: Item;
  gate: Gate;
  done: boolean;
  /** Who last changed it, when, and the note/reason given. */
  changedBy?: string;
  changedAt?: string;
  note?: string | null;
  /** The item's latest evidence check result, when it has a check. */
  evidence?: StoredEvidence;
  /** Signed off, but its check started failing since: it counts as open (`done` is false). */
  drift?: { since: string };
}

/**
 * What the checklist asks of the evidence feature: the latest results, and a
 * check run now, before a person's sign-off.
 */
export interface ItemEvidenceSource {
  all(): Promise<Map<string, StoredEvidence>>;
  /** Runs the item's check and stores the result (no auto sign-off: a person is signing). */
  verifyForSignoff(item: Item, gate: Gate): Promise<StoredEvidence>;
}

/** One gate with its items and sign-offs. */
export interface GateStatus {
  gate: Gate;
  items: ItemStatus[];
  done: number;
  total: number;
  openBlockers: number;
  signoffs: SignoffRow[];
  missingSignoffs: string[];
}

/** The overall verdict line. */
export type Verdict =
  | { kind: 'blocked'; openBlockers: number }
  | { kind: 'awaiting_signoff'; missing: { gate: string; roles: string[] }[] }
  | { kind: 'ready' };

/** Everything `/golive status` shows about the checklist. */
export interface ChecklistSnapshot {
  launchName: string;
  gates: GateStatus[];
  open: Record<ItemLevel, ItemStatus[]>;
  verdict: Verdict;
}

/** Result of a check/uncheck: whether anything changed, and the state afterwards. */
export interface ItemChange {
  changed: boolean;
  status: ItemStatus;
  revokedSignoffs: SignoffRow[];
}

/** Result of a gate sign-off. */
export interface SignoffResult {
  gate: Gate;
  signedRoles: string[];
  alreadySigned: SignoffRow[];
  missingRoles: string[];
}

const LEVEL_ORDER: ItemLevel[] = ['blocker', 'warning', 'info'];

/** The launch checklist: items, sign-offs, and the verdict they add up to. */
export class ChecklistService {
  private readonly items = new Map<string, { item: Item; gate: Gate }>();
  private readonly listeners: ChecklistListener[] = [];
  private readonly rows: ChecklistRepository;
  private readonly audit: AuditRepository;
  private evidence?: ItemEvidenceSource;

  constructor(
    private readonly runbook: Runbook,
    private readonly store: Store,
    private readonly roles: RoleDirectory,
    private readonly clock: Clock,
  ) {
    this.rows = new ChecklistRepository(store);
    this.audit = new AuditRepository(store);
    for (const gate of runbook.gates) for (const item of gate.items) this.items.set(item.id, { item, gate });
  }

  onChange(listener: ChecklistListener): void {
    this.listeners.push(listener);
  }

  /** Connects the evidence checks: set once at start-up (the evidence feature also reads sign-offs from here). */
  useEvidence(source: ItemEvidenceSource): void {
    this.evidence = source;
  }

  itemIds(): string[] {
    return [...this.items.keys()];
  }

  gateIds(): string[] {
    return this.runbook.gates.map((g) => g.id);
  }

  findItem(id: string): { item: Item; gate: Gate } {
    const key = id.trim().toLowerCase();
    const hit = this.items.get(key);
    if (hit) return hit;
    throw new GoliveError('unknown_item', `There is no checklist item \`${truncate(id, 60)}\`.`, suggestionHint(key, this.itemIds(), 'items'));
  }

  findGate(id: string): Gate {
    const key = id.trim().toLowerCase();
    const gate = this.runbook.gates.find((g) => g.id === key);
    if (gate) return gate;
    throw new GoliveError('unknown_gate', `There is no gate \`${truncate(id, 60)}\`.`, suggestionHint(key, this.gateIds(), 'gates'));
  }

  /** Whether the user may sign the item off (member of its owner role). */
  async maySign(userId: string, item: Item): Promise<boolean> {
    return this.roles.isMember(userId, item.owner);
  }

  /**
   * Signs an item off. Idempotent: an item already done is reported unchanged.
   * An item with a check is checked first: if the check fails, the sign-off
   * needs a note saying why it is fine anyway, and says the check failed. A
   * drifting item (signed off, check failing since) signed again with a note
   * is signed again: a person decided.
   */
  async check(itemId: string, actor: Actor, note: string | null): Promise<ItemChange> {
    const { item, gate } = this.findItem(itemId);
    await this.requireOwner(actor.userId, item, 'sign off');
    const state = await this.rows.itemState(item.id);
    const prior = item.verify ? await this.evidence?.all().then((m) => m.get(item.id)) : undefined;
    const drifting = state?.checked === 1 && isDrifting(prior, toSignoffState(state));
    if (state?.checked === 1 && !drifting) return { changed: false, status: await this.itemStatus(item, gate), revokedSignoffs: [] };
    const evidence = item.verify && this.evidence ? await this.evidence.verifyForSignoff(item, gate) : undefined;
    if (!note && (evidence?.outcome === 'fail' || (drifting && evidence?.outcome !== 'pass'))) {
      throw new GoliveError(
        'check_failed',
        `\`${item.id}\` ${drifting ? 'is signed off, but its check has been failing' : 'was not signed off: its check fails'}: “${escapeText((evidence?.text ?? '').slice(0, 500))}”`,
        `Fix it and sign off again, or sign off with a note saying why it is fine anyway: \`/golive check ${item.id} <note>\`.`,
      );
    }
    const at = this.clock.now().toISOString();
    const checked = evidence ? { outcome: evidence.outcome, text: evidence.text } : undefined;
    return this.store.transaction(async () => {
      const again = drifting && evidence?.outcome !== 'pass';
      const changed = again ? await this.rows.resign(item.id, actor.userId, at, note) : await this.rows.setItemState(item.id, true, actor.userId, at, note);
      if (changed) {
        await this.audit.record({ actor: actor.userId, action: 'item.check', target: item.id, detail: { gate: gate.id, note, ...(checked ? { evidence: checked } : {}), ...(again ? { signed_again_while_failing: true } : {}) }, source: actor.source, channel: actor.channel }, at);
        await this.emit({ type: 'item_checked', item, gate, by: actor.userId, at, note, ...(checked ? { evidence: checked } : {}), ...(again ? { again } : {}) });
      }
      return { changed, status: await this.itemStatus(item, gate), revokedSignoffs: [] };
    });
  }

  /** golive signs an item off itself: its check passed and the runbook asks for that (`auto_signoff`). */
  async autoCheck(itemId: string, evidence: Pick<StoredEvidence, 'outcome' | 'text'>): Promise<boolean> {
    const { item, gate } = this.findItem(itemId);
    const at = this.clock.now().toISOString();
    return this.store.transaction(async () => {
      const state = await this.rows.itemState(item.id);
      // A person took it back since the check ran: leave it to a person.
      if (state && (state.checked === 1 || state.changed_by !== GOLIVE_ACTOR)) return false;
      if (!(await this.rows.setItemState(item.id, true, GOLIVE_ACTOR, at, null))) return false;
      await this.audit.record({ actor: GOLIVE_ACTOR, action: 'item.check', target: item.id, detail: { gate: gate.id, note: null, auto_signoff: true, evidence }, source: 'system', channel: this.runbook.launch.channel }, at);
      await this.emit({ type: 'item_checked', item, gate, by: GOLIVE_ACTOR, at, note: null, evidence });
      return true;
    });
  }

  /** Each item's sign-off as the evidence rules need it. */
  async signoffStates(): Promise<Map<string, SignoffState>> {
    const states = await this.rows.itemStates();
    return new Map([...states].map(([id, row]) => [id, toSignoffState(row)]));
  }

  /**
   * Takes a sign-off back. Unchecking a blocker also withdraws the gate's
   * sign-offs, because they vouched for a state that no longer holds.
   */
  async uncheck(itemId: string, actor: Actor, reason: string | null): Promise<ItemChange> {
    const { item, gate } = this.findItem(itemId);
    await this.requireOwner(actor.userId, item, 'take back');
    const at = this.clock.now().toISOString();
    return this.store.transaction(async () => {
      const previous = await this.rows.itemState(item.id);
      if (!previous || previous.checked === 0) return { changed: false, status: await this.itemStatus(item, gate), revokedSignoffs: [] };
      await this.rows.setItemState(item.id, false, actor.userId, at, reason);
      const revokedSignoffs = item.level === 'blocker' ? await this.rows.clearSignoffs(gate.id) : [];
      await this.audit.record(
        {
          actor: actor.userId,
          action: 'item.uncheck',
          target: item.id,
          detail: { gate: gate.id, reason, revoked_signoffs: revokedSignoffs.map((s) => s.role) },
          source: actor.source,
          channel: actor.channel,
        },
        at,
      );
      await this.emit({ type: 'item_unchecked', item, gate, by: actor.userId, at, reason, revokedSignoffs });
      return { changed: true, status: await this.itemStatus(item, gate), revokedSignoffs };
    });
  }

  /** Signs a gate off for every listed role the user holds that has not signed yet. */
  async signoff(gateId: string, actor: Actor): Promise<SignoffResult> {
    const gate = this.findGate(gateId);
    if (gate.signoff.length === 0) {
      throw new GoliveError('not_configured', `Gate \`${gate.id}\` has no sign-off roles in the runbook, so there is nothing to sign.`, 'Add `signoff: [role, …]` to the gate in the runbook.');
    }
    const held = await this.roles.rolesOf(actor.userId, gate.signoff);
    if (held.length === 0) {
      const who = gate.signoff.map((r) => this.roleLabel(r)).join(' or ');
      throw new GoliveError('not_permitted', `Only ${who} can sign off gate \`${gate.id}\`, and you are not in ${gate.signoff.length > 1 ? 'any of those roles' : 'that role'}.`);
    }
    const openBlockers = (await this.snapshot()).gates.find((g) => g.gate.id === gate.id)!.items.filter((s) => s.item.level === 'blocker' && !s.done).map((s) => s.item);
    if (openBlockers.length > 0) {
      throw new GoliveError(
        'blockers_open',
        `Gate \`${gate.id}\` cannot be signed off yet: ${openBlockers.length} blocker${openBlockers.length > 1 ? 's are' : ' is'} still open.`,
        openBlockers.map((i) => `• \`${i.id}\` ${i.title} (owner: ${this.roleLabel(i.owner)})`).join('\n'),
      );
    }
    const at = this.clock.now().toISOString();
    return this.store.transaction(async () => {
      const signedRoles: string[] = [];
      for (const role of held) if (await this.rows.addSignoff(gate.id, role, actor.userId, at)) signedRoles.push(role);
      const all = (await this.rows.signoffs()).filter((s) => s.gate_id === gate.id);
      const missingRoles = gate.signoff.filter((r) => !all.some((s) => s.role === r));
      if (signedRoles.length > 0) {
        await this.audit.record({ actor: actor.userId, action: 'gate.signoff', target: gate.id, detail: { roles: signedRoles }, source: actor.source, channel: actor.channel }, at);
        await this.emit({ type: 'gate_signed', gate, roles: signedRoles, by: actor.userId, at, complete: missingRoles.length === 0 });
      }
      return { gate, signedRoles, alreadySigned: all.filter((s) => held.includes(s.role) && !signedRoles.includes(s.role)), missingRoles };
    });
  }

  /** The whole checklist as it stands. */
  async snapshot(): Promise<ChecklistSnapshot> {
    // One transaction: the item states and the sign-offs from the same moment.
    const { states, signoffs, evidence } = await this.store.transaction(async () => ({
      states: await this.rows.itemStates(),
      signoffs: await this.rows.signoffs(),
      evidence: (await this.evidence?.all()) ?? new Map<string, StoredEvidence>(),
    }));
    const open: ChecklistSnapshot['open'] = { blocker: [], warning: [], info: [] };
    const gates = this.runbook.gates.map((gate): GateStatus => {
      const items = gate.items.map((item) => toItemStatus(item, gate, states.get(item.id), evidence.get(item.id)));
      for (const s of items) if (!s.done) open[s.item.level].push(s);
      const gateSignoffs = signoffs.filter((s) => s.gate_id === gate.id);
      return {
        gate,
        items,
        done: items.filter((s) => s.done).length,
        total: items.length,
        openBlockers: items.filter((s) => !s.done && s.item.level === 'blocker').length,
        signoffs: gateSignoffs,
        missingSignoffs: gate.signoff.filter((r) => !gateSignoffs.some((s) => s.role === r)),
      };
    });
    const blockers = open.blocker.length;
    const missing = gates.filter((g) => g.missingSignoffs.length > 0).map((g) => ({ gate: g.gate.id, roles: g.missingSignoffs }));
    const verdict: Verdict = blockers > 0 ? { kind: 'blocked', openBlockers: blockers } : missing.length > 0 ? { kind: 'awaiting_signoff', missing } : { kind: 'ready' };
    return { launchName: this.runbook.launch.name, gates, open, verdict };
  }

  roleLabel(role: string): string {
    return this.runbook.roles[role]?.name ?? role;
  }

  private async itemStatus(item: Item, gate: Gate): Promise<ItemStatus> {
    return toItemStatus(item, gate, await this.rows.itemState(item.id), item.verify ? (await this.evidence?.all())?.get(item.id) : undefined);
  }

  private async requireOwner(userId: string, item: Item, verb: string): Promise<void> {
    if (await this.roles.isMember(userId, item.owner)) return;
    const members = await this.roles.members(item.owner);
    const people = members.users.length > 0 ? `: ${members.users.slice(0, 10).map((u) => `<@${u}>`).join(', ')}` : '';
    throw new GoliveError('not_permitted', `Only ${members.name}${people} can ${verb} \`${item.id}\` (${item.title}).`, 'Ask one of them, or ask to be added to the role in the runbook.');
  }

  private async emit(event: ChecklistEvent): Promise<void> {
    for (const l of this.listeners) await l(event);
  }
}

export { LEVEL_ORDER };

function toSignoffState(row: ItemStateRow): SignoffState {
  return { done: row.checked === 1, changedAt: row.changed_at, changedBy: row.changed_by };
}

/** A drifting item (signed off, its check failing since) counts as open everywhere: the verdict, deploys, go/no-go. */
function toItemStatus(item: Item, gate: Gate, row: ItemStateRow | undefined, evidence: StoredEvidence | undefined): ItemStatus {
  const drifting = row !== undefined && isDrifting(evidence, toSignoffState(row));
  return {
    item,
    gate,
    done: row?.checked === 1 && !drifting,
    changedBy: row?.changed_by,
    changedAt: row?.changed_at,
    note: row?.note ?? null,
    ...(evidence ? { evidence } : {}),
    ...(drifting ? { drift: { since: evidence!.drift_at! } } : {}),
  };
}

function truncate(s: string, n: number): string {
  const clean = escapeText(s.replace(/[`\n\r]/g, ' '));
  return clean.length > n ? `${clean.slice(0, n - 1)}…` : clean;
}

function suggestionHint(input: string, names: string[], what: string): string {
  const close = closestNames(input, names);
  if (close.length > 0) return `Did you mean ${close.map((n) => `\`${n}\``).join(' or ')}?`;
  const shown = names.slice(0, 15).map((n) => `\`${n}\``).join(', ');
  return `The ${what} are: ${shown}${names.length > 15 ? `, and ${names.length - 15} more (see \`/golive status\`)` : ''}.`;
}
