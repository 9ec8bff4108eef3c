/* Times as people in the launch read them; shared by the domain's templates and the Slack rendering. */

// Building an Intl.DateTimeFormat costs far more than formatting with one (ICU loads the zone),
// and a status render formats a time per signed-off item: one formatter per timezone, reused.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', { timeZone, day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZoneName: 'short' });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Formats a time in the launch's timezone, e.g. "21 Nov 14:05 IST". */
export function formatTime(iso: string, timeZone: string): string {
  const parts = formatterFor(timeZone).formatToParts(new Date(iso));
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return `${get('day')} ${get('month')} ${get('hour')}:${get('minute')} ${get('timeZoneName')}`;
}
