/** PagerDuty's Events API v2 endpoint (US service region). */
export const DEFAULT_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';

/** PagerDuty's REST API, for the on-call lookup. */
export const DEFAULT_API_URL = 'https://api.pagerduty.com';
