import { describe, expect, it } from 'vitest';
import { fillHours } from './overview.service.js';

describe('fillHours', () => {
  it('gives 24 hourly buckets ending with the current hour, zero-filled, oldest first', () => {
    const now = new Date('2026-01-02T10:35:00Z');
    const hours = fillHours(
      [
        { hour: new Date('2026-01-02T10:00:00Z'), succeeded: 4, failed: 1 },
        { hour: new Date('2026-01-01T11:00:00Z'), succeeded: 2, failed: 0 },
      ],
      now,
    );
    expect(hours).toHaveLength(24);
    expect(hours[0]).toEqual({ hour: '2026-01-01T11:00:00.000Z', succeeded: 2, failed: 0 });
    expect(hours[23]).toEqual({ hour: '2026-01-02T10:00:00.000Z', succeeded: 4, failed: 1 });
    expect(hours.slice(1, 23).every((h) => h.succeeded === 0 && h.failed === 0)).toBe(true);
  });
});
