import { describe, expect, it } from 'vitest';
import { closestNames } from '../../src/platform/suggest.js';

const ITEMS = ['v2f-agreement', 'secrets-manager-v2f', 'acm-wildcard-cert', 'route53-hosted-zone', 's3-bucket-names'];
const COMMANDS = ['status', 'check', 'uncheck', 'signoff', 'gonogo', 'deploy', 'rollback', 'alarms', 'incident', 'history', 'help'];

describe('closestNames', () => {
  it.each([
    ['v2f-agrement', ITEMS, ['v2f-agreement']],
    ['V2F-AGREMENT', ITEMS, ['v2f-agreement']],
    ['stauts', COMMANDS, ['status']],
    ['chek', COMMANDS, ['check']],
    ['unchek', COMMANDS, ['uncheck']],
    ['hlep', COMMANDS, ['help']],
    ['rolback', COMMANDS, ['rollback']],
  ])('suggests the intended name for the typo %s', (input, names, expected) => {
    expect(closestNames(input, names)).toEqual(expected);
  });

  it('finds names containing what was typed, alphabetically among equals', () => {
    expect(closestNames('v2f', ITEMS)).toEqual(['secrets-manager-v2f', 'v2f-agreement']);
    expect(closestNames('check', COMMANDS)).toEqual(['check', 'uncheck']);
  });

  it('finds a name contained in what was typed (3+ characters)', () => {
    expect(closestNames('route53-hosted-zone-please', ITEMS)).toEqual(['route53-hosted-zone']);
  });

  it('keeps only the best-scoring matches', () => {
    // "stat" is inside "status"; "start" is one edit away (and sorts first) but is not as good.
    expect(closestNames('stat', ['start', 'status'])).toEqual(['status']);
    // "b3" is one edit from b1 and b2, two from b10: not every short id is suggested.
    expect(closestNames('b3', ['b10', 'b2', 'b1', 'c4'])).toEqual(['b1', 'b2']);
  });

  it('returns at most `max` names, 3 by default', () => {
    expect(closestNames('e', COMMANDS)).toEqual(['check', 'deploy', 'help']);
    expect(closestNames('e', COMMANDS, 10)).toEqual(['check', 'deploy', 'help', 'incident', 'uncheck']);
    expect(closestNames('e', COMMANDS, 1)).toEqual(['check']);
  });

  it('suggests nothing for nonsense, empty input or no names', () => {
    expect(closestNames('zzzzzzzz', ITEMS)).toEqual([]);
    expect(closestNames('ab', COMMANDS)).toEqual([]);
    expect(closestNames('', ITEMS)).toEqual([]);
    expect(closestNames('status', [])).toEqual([]);
  });

  it('copes with very long input', () => {
    expect(closestNames('x'.repeat(5000), ITEMS)).toEqual([]);
    // Only the first 100 characters are compared; they contain a whole item id.
    expect(closestNames('v2f-agreement'.repeat(400), ITEMS)).toEqual(['v2f-agreement']);
  });

  it('does not modify the list of names', () => {
    const names = [...COMMANDS];
    closestNames('stauts', names);
    expect(names).toEqual(COMMANDS);
  });
});
