import { describe, expect, it } from 'vitest';
import { closestNames } from '../src/suggest.js';

const ITEMS = ['v2f-agreement', 'secrets-manager-v2f', 'acm-wildcard-cert', 'route53-hosted-zone', 's3-bucket-names'];

describe('closestNames', () => {
  it('finds a typo', () => {
    expect(closestNames('v2f-agrement', ITEMS)).toEqual(['v2f-agreement']);
    expect(closestNames('stauts', ['status', 'check', 'uncheck', 'signoff', 'history', 'help'])).toEqual(['status']);
  });

  it('finds names containing what was typed', () => {
    expect(closestNames('v2f', ITEMS)).toEqual(['secrets-manager-v2f', 'v2f-agreement']);
  });

  it('suggests nothing for nonsense or empty input', () => {
    expect(closestNames('zzzzzzzz', ITEMS)).toEqual([]);
    expect(closestNames('', ITEMS)).toEqual([]);
  });

  it('copes with very long input', () => {
    expect(closestNames('x'.repeat(5000), ITEMS)).toEqual([]);
  });
});
