/**
 * JSON Schemas shared by the routes: they validate inputs (Ajv), serialise outputs
 * (fast-json-stringify) and become the OpenAPI document (@fastify/swagger).
 */
import { DECLARED_STATES, DETECTED_STATES } from '../detection/index.js';
import { errorBodySchema } from './errors.js';

export const STATION_STATES = [...DETECTED_STATES, ...DECLARED_STATES.filter((s) => s !== 'open')] as const;

const nullableInt = { type: ['integer', 'null'] } as const;
const nullableNumber = { type: ['number', 'null'] } as const;
const nullableString = { type: ['string', 'null'] } as const;

/** A station code as people know it (Vélib' `stationCode`) or a feed station_id. */
export const stationCodeParam = {
  type: 'string',
  minLength: 1,
  maxLength: 64,
  pattern: '^[A-Za-z0-9_.:-]+$',
} as const;

export const stationViewSchema = {
  $id: 'Station',
  type: 'object',
  required: ['code', 'name', 'lat', 'lon', 'bikes', 'docks', 'blockedDocks', 'declared', 'detected', 'state'],
  properties: {
    code: { type: 'string', description: 'Code people know (Vélib’ stationCode), else the station_id' },
    id: { type: 'string', description: 'Feed station_id (station page only: /stations/{code})' },
    name: { type: 'string' },
    lat: { type: 'number', description: 'WGS 84 degrees, rounded to 1e-5 (about 1 m)' },
    lon: { type: 'number', description: 'WGS 84 degrees, rounded to 1e-5 (about 1 m)' },
    capacity: nullableInt,
    bikes: {
      type: 'object',
      required: ['mechanical', 'electric', 'other'],
      properties: {
        mechanical: { type: 'integer' },
        electric: { type: 'integer' },
        other: { type: 'integer' },
      },
    },
    docks: { type: 'integer', description: 'Free docks' },
    blockedDocks: {
      type: 'integer',
      description: 'capacity − bikes − free docks − disabled docks, never negative',
    },
    bikesDisabled: { type: 'integer' },
    docksDisabled: { type: 'integer' },
    declared: { type: 'string', enum: [...DECLARED_STATES], description: 'What the feed declares' },
    detected: { type: 'string', enum: [...STATION_STATES], description: 'What the detector concludes' },
    state: {
      type: 'string',
      enum: [...STATION_STATES],
      description: 'Shown state: declared problem, else detected',
    },
    since: { ...nullableInt, description: 'POSIX seconds since when the detected state holds' },
    confidence: nullableNumber,
    detector: nullableString,
    lastActivity: { ...nullableInt, description: 'Start of the latest 10-min slot with a rental or return' },
    lastReported: { ...nullableInt, description: 'Feed last_reported (station page only)' },
  },
} as const;

/** A column of the station list: the Station property's schema, once per station. */
const column = (key: Exclude<keyof typeof stationViewSchema.properties, 'bikes' | 'id' | 'lastReported'>) => {
  const { description, ...item } = stationViewSchema.properties[key] as { description?: string };
  return { type: 'array', items: item, ...(description ? { description } : {}) } as const;
};
const intColumn = { type: 'array', items: { type: 'integer' } } as const;

/** GET /stations' list: one array per Station property, station i at index i (station-table.ts). */
export const stationColumnsSchema = {
  $id: 'StationColumns',
  type: 'object',
  description:
    'The stations as columns: `code[i]`, `name[i]`, `bikes.mechanical[i]`… describe station i (same meaning as in Station). Sorted by code.',
  required: [
    'code',
    'name',
    'lat',
    'lon',
    'capacity',
    'bikes',
    'docks',
    'blockedDocks',
    'bikesDisabled',
    'docksDisabled',
    'declared',
    'detected',
    'state',
    'since',
    'confidence',
    'detector',
    'lastActivity',
  ],
  properties: {
    code: column('code'),
    name: column('name'),
    lat: column('lat'),
    lon: column('lon'),
    capacity: column('capacity'),
    bikes: {
      type: 'object',
      required: ['mechanical', 'electric', 'other'],
      properties: { mechanical: intColumn, electric: intColumn, other: intColumn },
    },
    docks: column('docks'),
    blockedDocks: column('blockedDocks'),
    bikesDisabled: column('bikesDisabled'),
    docksDisabled: column('docksDisabled'),
    declared: column('declared'),
    detected: column('detected'),
    state: column('state'),
    since: column('since'),
    confidence: column('confidence'),
    detector: column('detector'),
    lastActivity: column('lastActivity'),
  },
};

export const stateChangeSchema = {
  $id: 'StateChange',
  type: 'object',
  required: ['id', 'code', 'stationId', 'timeSec', 'from', 'to', 'detector', 'confidence', 'reason'],
  properties: {
    id: { type: 'integer' },
    code: { type: 'string' },
    stationId: { type: 'string' },
    name: nullableString,
    timeSec: { type: 'integer' },
    from: { type: 'string' },
    to: { type: 'string' },
    detector: { type: 'string' },
    confidence: { type: 'number' },
    reason: { type: 'string' },
    evidence: { type: ['object', 'null'], additionalProperties: { type: 'number' } },
  },
} as const;

const slotSeries = { type: 'array', items: { type: 'number' }, minItems: 144, maxItems: 144 } as const;

export const activitySchema = {
  $id: 'Activity',
  type: 'object',
  required: ['day', 'date', 'currentSlot', 'today', 'usual'],
  properties: {
    day: { type: 'integer', description: 'Local day, days since 1970-01-01' },
    date: { type: 'string', description: 'Local date YYYY-MM-DD in the system time zone' },
    currentSlot: {
      type: 'integer',
      description: '10-minute slot of the local day (0..143) of the data time',
    },
    today: {
      type: 'object',
      required: ['rented', 'returned'],
      properties: { rented: slotSeries, returned: slotSeries },
    },
    usual: {
      type: 'object',
      required: ['rented', 'returned', 'days'],
      properties: {
        rented: slotSeries,
        returned: slotSeries,
        days: { type: 'integer', description: 'Past days of the same kind (weekday / weekend) averaged' },
      },
    },
  },
} as const;

export const feedHealthSchema = {
  $id: 'FeedHealth',
  type: ['object', 'null'],
  properties: {
    lastDocumentSec: nullableInt,
    lastPollSec: nullableInt,
    lastSuccessSec: nullableInt,
    stale: { type: 'boolean' },
    consecutiveFailures: { type: 'integer' },
    lastError: nullableString,
    rejected: { type: 'object', additionalProperties: { type: 'integer' } },
  },
} as const;

export const stateCountsSchema = {
  $id: 'StateCounts',
  type: 'object',
  properties: {
    ok: { type: 'integer' },
    locked: { type: 'integer' },
    partial: { type: 'integer' },
    closed: { type: 'integer' },
    learning: { type: 'integer' },
  },
} as const;

export const sharedSchemas = [
  errorBodySchema,
  stationViewSchema,
  stationColumnsSchema,
  stateChangeSchema,
  activitySchema,
  feedHealthSchema,
  stateCountsSchema,
];

export const errorResponses = {
  400: { $ref: 'ApiError#' },
  404: { $ref: 'ApiError#' },
} as const;
