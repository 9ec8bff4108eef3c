import { describe, expect, it } from 'vitest';
import { parseRunbook } from '../../../src/platform/runbook/load-runbook.js';
import { checkTemplate, DEFAULT_TEMPLATES, fillTemplate, TEMPLATE_PLACEHOLDERS } from '../../../src/platform/runbook/templates.js';

describe('incident templates', () => {
  it('default templates use only their own placeholders', () => {
    for (const kind of ['initial', 'update', 'resolved'] as const) expect(checkTemplate(kind, DEFAULT_TEMPLATES[kind])).toEqual([]);
  });

  it('fills placeholders, tolerating inner spaces, and marks missing values', () => {
    expect(fillTemplate('*Update #{{n}}* — {{ status }} / {{eta}}', { n: '3', status: 'mitigated' })).toBe('*Update #3* — mitigated / —');
  });

  it('leaves out a line its placeholders leave empty, and keeps lines that were empty to begin with', () => {
    expect(fillTemplate('*{{id}}*\n{{rollback_rule}}\n\n  {{rollback_rule}} \nend', { id: 'INC-3', rollback_rule: '' })).toBe('*INC-3*\n\nend');
    expect(fillTemplate('*{{id}}*\n{{rollback_rule}}', { id: 'INC-1', rollback_rule: '⏪ roll back' })).toBe('*INC-1*\n⏪ roll back');
  });

  it('names unknown placeholders and single braces', () => {
    expect(checkTemplate('update', 'Update #{{n}} {{root_cause}} {status}')).toEqual([
      `unknown placeholder {{root_cause}} in the update template (it can use: ${Object.keys(TEMPLATE_PLACEHOLDERS.update).map((k) => `{{${k}}}`).join(', ')})`,
      '{status} in the update template: placeholders take double braces, {{status}}',
    ]);
  });

  it('makes an unknown placeholder a load-time problem with its line', () => {
    const result = parseRunbook(
      [
        'version: 1',
        'launch: { name: T, channel: C0OPS }',
        'roles: { ops: { name: Ops, anyone: true } }',
        'gates: [{ id: g, title: G, items: [{ id: a, title: A, level: info, owner: ops }] }]',
        'incidents:',
        '  severities: { P1: { name: Critical, response_minutes: 0 } }',
        '  templates:',
        '    resolved: "Resolved after {{duraton}}"',
        '',
      ].join('\n'),
      'inc.yml',
    );
    expect(result.ok).toBe(false);
    expect(result.problems.map((p) => `${p.line}: ${p.reason}`)).toEqual([
      `8: unknown placeholder {{duraton}} in the resolved template (it can use: ${Object.keys(TEMPLATE_PLACEHOLDERS.resolved).map((k) => `{{${k}}}`).join(', ')})`,
    ]);
  });
});
