/*
 * Incident message templates: `{{placeholder}}` text from the runbook, with
 * defaults in seed 004's wording. Placeholders are checked when the runbook
 * loads, so a typo is a validation error, not a broken message at 3 a.m.
 */

export type TemplateKind = 'initial' | 'update' | 'resolved';

/** The placeholders each template may use, and what they become. */
export const TEMPLATE_PLACEHOLDERS: Record<TemplateKind, Record<string, string>> = {
  initial: {
    id: 'the incident number, e.g. INC-7',
    severity: 'P1 … P4',
    severity_name: 'the severity’s name from the runbook, e.g. "P1 — Critical"',
    summary: 'the summary given when declaring',
    started: 'when it was declared, in launch.timezone',
    services: 'the affected services',
    status: 'the current status',
    eta: 'the estimated resolution',
    commander: 'the incident commander (a Slack mention)',
    channel: 'the incident channel (a Slack link)',
    launch: 'launch.name',
    rollback_rule: 'for a severity with rollback_prompt_minutes, when golive prompts a rollback; nothing for the others (a line it leaves empty is left out)',
  },
  update: {
    id: 'the incident number',
    n: 'the update number',
    time: 'when the update was posted, in launch.timezone',
    status: 'the current status',
    actions: 'actions taken',
    next_steps: 'next steps',
    eta: 'the updated ETA',
    severity: 'P1 … P4',
    summary: 'the incident summary',
    commander: 'the incident commander',
  },
  resolved: {
    id: 'the incident number',
    resolved_at: 'when it was resolved, in launch.timezone',
    root_cause: 'the root cause',
    resolution: 'what resolved it',
    duration: 'how long the incident lasted',
    severity: 'P1 … P4',
    summary: 'the incident summary',
    commander: 'the incident commander',
    postmortem_hours: 'incidents.postmortem_hours',
  },
};

/** Seed 004's notification templates (section 11.3), in Slack's words. */
export const DEFAULT_TEMPLATES: Record<TemplateKind, string> = {
  initial: [
    ':rotating_light: *Incident {{id}} — {{severity_name}}*: {{summary}}',
    '• Severity: {{severity}}',
    '• Start time: {{started}}',
    '• Affected services: {{services}}',
    '• Current status: {{status}}',
    '• Estimated resolution: {{eta}}',
    '• Incident commander: {{commander}}',
    'We are actively investigating and will post updates here.',
  ].join('\n'),
  update: ['*Update #{{n}}* — {{time}}', '• Current status: {{status}}', '• Actions taken: {{actions}}', '• Next steps: {{next_steps}}', '• ETA: {{eta}}'].join('\n'),
  resolved: [
    ':white_check_mark: *Incident {{id}} resolved* at {{resolved_at}}.',
    '• Root cause: {{root_cause}}',
    '• Resolution: {{resolution}}',
    '• Duration: {{duration}}',
    'A post-mortem will be written and shared within {{postmortem_hours}} hours.',
  ].join('\n'),
};

const PLACEHOLDER = /\{\{\s*([a-zA-Z0-9_]+)\s*\}\}/g;
/** `{name}` with single braces: the easy mistake when writing `{{name}}`. */
const SINGLE_BRACE = /(?<!\{)\{([a-zA-Z_][a-zA-Z0-9_]*)\}(?!\})/g;

/** Problems with a template's placeholders; empty when it is fine. */
export function checkTemplate(kind: TemplateKind, text: string): string[] {
  const known = TEMPLATE_PLACEHOLDERS[kind];
  const problems: string[] = [];
  for (const m of text.matchAll(PLACEHOLDER)) {
    if (!(m[1]! in known)) problems.push(`unknown placeholder {{${m[1]}}} in the ${kind} template (it can use: ${Object.keys(known).map((k) => `{{${k}}}`).join(', ')})`);
  }
  for (const m of text.matchAll(SINGLE_BRACE)) {
    problems.push(`{${m[1]}} in the ${kind} template: placeholders take double braces, {{${m[1]}}}`);
  }
  return [...new Set(problems)];
}

/**
 * Fills a template; values are inserted as given (callers escape user text).
 * A placeholder with no value reads "—"; a line left blank by its
 * placeholders' empty values (`{{rollback_rule}}` for a P3) is left out.
 */
export function fillTemplate(text: string, values: Record<string, string>): string {
  return text
    .split('\n')
    .flatMap((line) => {
      const filled = line.replace(PLACEHOLDER, (_m, name: string) => values[name] ?? '—');
      return filled.trim() === '' && line.search(PLACEHOLDER) >= 0 ? [] : [filled];
    })
    .join('\n');
}
