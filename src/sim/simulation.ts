/**
 * A simulation without HTTP: model + faults + the documents of both shapes at the current state.
 * Shared by the server (which drives it from its clock) and by generateDocuments (which drives it
 * through a time range), so both produce the same documents for the same seed, start and faults.
 */
import {
  discoveryDocument,
  informationDocument,
  statusDocument,
  systemInformationDocument,
  vehicleTypesDocument,
  type SimShape,
  type SystemMeta,
} from './documents.js';
import { validateFaultSpec, type FaultSpec, type FaultSpecInput, type SimFeed } from './fault-spec.js';
import { FaultBook } from './faults.js';
import { SimModel } from './model.js';
import { seedToU32 } from './prng.js';
import { loadStations, type SimStationDef, type StationSource } from './stations.js';

export interface SimulationOptions {
  /** Same seed, start, stations and faults → same documents. Default 1. */
  seed?: number | string;
  /** Default: a synthetic city of 200 stations. */
  stations?: StationSource | readonly SimStationDef[];
  /** Simulated POSIX seconds of the first state (rounded down to a step). */
  startSec: number;
  /** Simulated seconds per model step; default 60. */
  simStepSec?: number;
  /** IANA zone for the demand profile and system_information; default Europe/Paris. */
  timezone?: string;
  systemName?: string;
  systemId?: string;
  /** Faults known from the start; `startInSec` counts from startSec. */
  faults?: readonly (FaultSpec | FaultSpecInput)[];
}

export class Simulation {
  readonly stations: readonly SimStationDef[];
  readonly faults: FaultBook;
  readonly model: SimModel;
  readonly startSec: number;
  readonly seed: number;
  readonly meta: SystemMeta;

  constructor(opts: SimulationOptions) {
    const simStepSec = opts.simStepSec ?? 60;
    if (!Number.isInteger(simStepSec) || simStepSec <= 0)
      throw new Error(`simStepSec must be a positive integer`);
    this.seed = seedToU32(opts.seed ?? 1);
    const src = opts.stations;
    this.stations = Array.isArray(src) ? src : loadStations(src as StationSource | undefined, this.seed);
    if (this.stations.length === 0) throw new Error('the simulation has no station');
    const timezone = opts.timezone ?? 'Europe/Paris';
    this.meta = {
      systemId: opts.systemId ?? 'dockwatch-sim',
      name: opts.systemName ?? 'dockwatch simulated bike share',
      timezone,
    };
    this.faults = new FaultBook(this.stations, simStepSec);
    this.model = new SimModel(this.stations, this.seed, opts.startSec, simStepSec, timezone, this.faults);
    this.startSec = this.model.timeSec;
    for (const f of opts.faults ?? []) this.faults.add(validateFaultSpec(f), this.startSec);
  }

  get stepSec(): number {
    return this.model.stepSec;
  }

  advanceTo(timeSec: number): void {
    this.model.advanceTo(timeSec);
  }

  /**
   * Adds a fault at simulated time `nowSec` (the state first catches up, so the past stays as it was).
   * Takes unchecked JSON too (the control endpoint): it is validated here.
   */
  inject(spec: unknown, nowSec: number): string {
    const valid = validateFaultSpec(spec);
    this.advanceTo(nowSec);
    return this.faults.add(valid, nowSec);
  }

  clear(id: string, nowSec: number): boolean {
    this.advanceTo(nowSec);
    return this.faults.clear(id, nowSec);
  }

  /** last_updated served for a feed now: the state time, unless a frozen_timestamp fault holds it. */
  lastUpdatedSec(feed: SimFeed): number {
    if (feed !== 'station_status') return this.startSec;
    return this.faults.frozenAt(feed, this.model.timeSec) ?? this.model.timeSec;
  }

  /**
   * The document of `feed` at the current state, or null when the shape has no such feed.
   * Static documents (discovery, information, vehicle types) carry the start time, so that their
   * ETag never changes and pollers get 304s.
   */
  document(shape: SimShape, feed: SimFeed, baseUrl = ''): object | null {
    const t = this.lastUpdatedSec(feed);
    switch (feed) {
      case 'station_status':
        return statusDocument(shape, this.model, t);
      case 'station_information':
        return informationDocument(shape, this.stations, t);
      case 'system_information':
        return systemInformationDocument(shape, this.meta, t);
      case 'vehicle_types':
        return shape === 'gbfs' ? vehicleTypesDocument(t) : null;
      case 'gbfs':
        return discoveryDocument(shape, baseUrl, t);
    }
  }

  /** Totals for the control endpoint. */
  totals(): { bikes: number; docksAvailable: number; capacity: number } {
    let bikes = 0;
    let docks = 0;
    let capacity = 0;
    for (let i = 0; i < this.model.count; i++) {
      bikes += (this.model.mechanical[i] as number) + (this.model.electric[i] as number);
      docks += this.model.docksAvailable(i);
      capacity += this.model.capacity[i] as number;
    }
    return { bikes, docksAvailable: docks, capacity };
  }
}
