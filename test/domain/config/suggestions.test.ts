import { describe, expect, it } from 'vitest';
import { closestKey } from '../../../functions/domain/config/suggestions.js';

describe('closestKey', () => {
  it.each([
    ['defualts', 'defaults'],
    ['PROJECTS', 'projects'],
    ['project', 'projects'],
    ['leaseSecond', 'leaseSeconds'],
    ['extra', undefined],
    ['colour', undefined],
    ['lock', 'locks'],
  ])('closestKey(%s) is %s', (key, expected) => {
    const known = ['$schema', 'atlas', 'defaults', 'locks', 'rotation', 'projects', 'leaseSeconds'];
    expect(closestKey(key, known)).toBe(expected);
  });
});
