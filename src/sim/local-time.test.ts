import { describe, expect, it } from 'vitest';
import { LocalClock } from './local-time.js';

describe('LocalClock', () => {
  const paris = new LocalClock('Europe/Paris');

  it('follows the DST switch (Paris, 30 March 2025 at 01:00 UTC)', () => {
    const before = Date.UTC(2025, 2, 30, 0, 30) / 1000;
    const after = Date.UTC(2025, 2, 30, 1, 30) / 1000;
    expect(paris.at(before)).toEqual({ weekday: 0, hour: 1.5 });
    expect(paris.at(after)).toEqual({ weekday: 0, hour: 3.5 });
  });

  it('gives the local weekday across midnight', () => {
    // Monday 6 October 2025, 23:30 UTC = Tuesday 01:30 in Paris.
    expect(paris.at(Date.UTC(2025, 9, 6, 23, 30) / 1000)).toEqual({ weekday: 2, hour: 1.5 });
    expect(new LocalClock('America/Los_Angeles').at(Date.UTC(2025, 9, 6, 23, 30) / 1000)).toEqual({
      weekday: 1,
      hour: 16.5,
    });
  });

  it('refuses an unknown zone', () => {
    expect(() => new LocalClock('Mars/Olympus')).toThrow(RangeError);
  });
});
