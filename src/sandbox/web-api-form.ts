/** Web API arguments that the client sends form-encoded as JSON text. */
const JSON_FORM_FIELDS = new Set(['blocks', 'attachments', 'view', 'metadata', 'unfurls', 'profile', 'files']);

/**
 * A form-encoded Web API call's arguments as Slack reads them: the JSON-valued
 * fields parsed, everything else as text. Shared by the sandbox's Slack and the
 * tests' fake Slack.
 */
export function webApiFormArgs(params: URLSearchParams): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of params) {
    if (JSON_FORM_FIELDS.has(key) && /^\s*[[{]/.test(value)) {
      try {
        out[key] = JSON.parse(value);
        continue;
      } catch {
        // Slack would reject unparseable JSON; keep the string so the method's own check reports it.
      }
    }
    out[key] = value;
  }
  return out;
}
