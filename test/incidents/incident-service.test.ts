import { describe, expect, it } from 'vitest';
import { severityLabel, slugify } from '../../src/incidents/incident-service.js';

describe('incident names', () => {
  it('slugs a summary for a channel name, cutting at a word boundary', () => {
    expect(slugify('Payments failing at checkout!')).toBe('payments-failing-at-checkout');
    expect(slugify('GoVisaX-Prod-API-5XX-Rate: Threshold Crossed: 1 datapoint')).toBe('govisax-prod-api-5xx-rate-threshold');
    expect(slugify('Ünïcödé façade')).toBe('unicode-facade');
    expect(slugify('a'.repeat(50))).toBe('a'.repeat(40));
    expect(slugify('💥')).toBe('incident');
  });

  it('names a severity once even when the runbook name repeats the key', () => {
    expect(severityLabel('P2', 'P2 — High')).toBe('P2 — High');
    expect(severityLabel('P1', 'Critical')).toBe('P1 Critical');
    expect(severityLabel('P3', undefined)).toBe('P3');
  });
});
