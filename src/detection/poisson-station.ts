/** What the `poisson` detector remembers of one station (plain data: saved and restored as JSON). */
import type { DetectedState } from './types.js';

/**
 * Availability factors by bikes (resp. free docks) 0, 1, 2, 3+: with one bike the rental rate is
 * 0.65× that with three or more, with one free dock the return rate is 0.75× (measured on Bay
 * Wheels, April 2023). An empty station cannot rent, a full one cannot take returns.
 */
export const RENT_FACTOR: readonly number[] = [0, 0.65, 0.9, 1];
export const RETURN_FACTOR: readonly number[] = [0, 0.75, 0.93, 1];

export interface Station {
  i: number;
  id: string;
  present: boolean;
  bikes: number;
  docks: number;
  installed: boolean;
  renting: boolean;
  returning: boolean;
  clockSec: number;
  observedSec: number;
  /** Expected events since the last rental / return / any event (scaled, blind time excluded). */
  expRent: number;
  expReturn: number;
  expAny: number;
  silentSec: number;
  rentBad: boolean;
  returnBad: boolean;
  /** Document time of the last move, and which directions moved then (occurrence counting). */
  lastMoveSec: number;
  movedRent: boolean;
  movedReturn: boolean;
  /** Bike types rented in the document of lastMoveSec (bit per type: occurrences per type). */
  rentedTypes: number;

  state: DetectedState;
  sinceSec: number;
  confidence: number;
}

export function newStation(i: number, id: string, timeSec: number): Station {
  return {
    i,
    id,
    present: true,
    bikes: 0,
    docks: 0,
    installed: true,
    renting: true,
    returning: true,
    clockSec: timeSec,
    observedSec: 0,
    expRent: 0,
    expReturn: 0,
    expAny: 0,
    silentSec: 0,
    rentBad: false,
    returnBad: false,
    lastMoveSec: 0,
    movedRent: false,
    movedReturn: false,
    rentedTypes: 0,
    state: 'learning',
    sinceSec: timeSec,
    confidence: 0,
  };
}
