import { describe, expect, it } from 'vitest';
import { checkDocumentTime } from './index.js';

const NOW = 1_700_000_000;

describe('checkDocumentTime', () => {
  it('accepts the first document and any later one', () => {
    expect(checkDocumentTime(null, NOW - 60, NOW)).toBeNull();
    expect(checkDocumentTime(NOW - 120, NOW - 60, NOW)).toBeNull();
  });

  it('refuses a repeat of the last accepted timestamp', () => {
    expect(checkDocumentTime(NOW - 60, NOW - 60, NOW)).toMatchObject({
      reason: 'duplicate_document',
      stationId: null,
    });
  });

  it('refuses a document older than the last accepted one, saying by how much', () => {
    const r = checkDocumentTime(NOW - 60, NOW - 660, NOW);
    expect(r).toMatchObject({ reason: 'timestamp_backwards', feed: 'station_status' });
    expect(r!.message).toContain('600 s older');
  });

  it('tolerates 300 s of clock skew by default, and a configured amount', () => {
    expect(checkDocumentTime(null, NOW + 300, NOW)).toBeNull();
    const r = checkDocumentTime(null, NOW + 301, NOW);
    expect(r).toMatchObject({ reason: 'timestamp_future' });
    expect(r!.message).toContain('2023-11-14T22:18:21Z');
    expect(checkDocumentTime(null, NOW + 301, NOW, { maxFutureSec: 600 })).toBeNull();
    expect(
      checkDocumentTime(NOW, NOW + 61, NOW, { maxFutureSec: 60, feed: 'station_information' }),
    ).toMatchObject({
      reason: 'timestamp_future',
      feed: 'station_information',
    });
  });

  it('checks the future before the order: a future document is never accepted', () => {
    expect(checkDocumentTime(NOW + 5000, NOW + 5000, NOW)).toMatchObject({ reason: 'timestamp_future' });
  });
});
