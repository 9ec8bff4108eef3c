import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { declareModal } from '../../src/incidents/incident-modals.js';
import { loadRunbookFile, parseRunbook } from '../../src/platform/runbook/load-runbook.js';
import { PROJECT_ROOT } from '../support/start-app.js';

const severityOptions = (modal: ReturnType<typeof declareModal>) =>
  ((modal.blocks[0] as { element: { options: { text: { text: string }; value: string }[] } }).element.options).map((o) => [o.value, o.text.text]);

describe('the declare modal', () => {
  it('names each severity once, whether or not the runbook’s name repeats its code', () => {
    const govisax = loadRunbookFile(path.join(PROJECT_ROOT, 'runbooks/govisax.yml'));
    if (!govisax.ok) throw new Error('govisax.yml does not load');
    expect(severityOptions(declareModal(govisax.runbook, 'C0OPS'))).toEqual([
      ['P1', 'P1 — Critical'],
      ['P2', 'P2 — High'],
      ['P3', 'P3 — Medium'],
      ['P4', 'P4 — Low'],
    ]);
    const plain = parseRunbook(
      'version: 1\nlaunch: { name: L, channel: C0OPS }\nroles: { ops: { name: Ops, users: [U0OPS1] } }\ngates: [{ id: g, title: G, items: [{ id: a, title: A, level: info, owner: ops }] }]\nincidents:\n  severities:\n    P1: { name: Critical, response_minutes: 0 }\n    P3: { name: Medium, response_minutes: 60 }\n',
      'plain.yml',
    );
    if (!plain.ok) throw new Error('plain.yml does not load');
    expect(severityOptions(declareModal(plain.runbook, 'C0OPS'))).toEqual([
      ['P1', 'P1 Critical'],
      ['P3', 'P3 Medium'],
    ]);
  });
});
