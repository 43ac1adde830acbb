import { describe, expect, it } from 'vitest';
import type { FeedHealth } from '../storage/index.js';
import { committedOnly } from './collect-service.js';

const health = (lastDocumentSec: number | null): FeedHealth => ({
  system: 'sys',
  lastDocumentSec,
  lastPollSec: 2_000,
  lastSuccessSec: 2_000,
  stale: false,
  consecutiveFailures: 0,
  lastError: null,
  rejected: {},
});

describe("the collector's feed health", () => {
  it('never names a document newer than the newest committed one', () => {
    // Fetched at 1,900 but still queued behind the store: the saved health says 1,800.
    expect(committedOnly(health(1_900), 1_800)).toEqual({ ...health(1_800), lastDocumentSec: 1_800 });
    expect(committedOnly(health(1_800), 1_800)).toEqual(health(1_800));
    expect(committedOnly(health(1_700), 1_800)).toEqual(health(1_700));
  });

  it('is left alone when either time is unknown', () => {
    expect(committedOnly(health(null), 1_800)).toEqual(health(null));
    expect(committedOnly(health(1_900), null)).toEqual(health(1_900));
  });
});
