/** GBFS parsing and normalisation: pure functions from raw bodies to the model of `feed/model.ts`. */
export { parseStationStatus } from './status.js';
export type { StatusParseOptions } from './status.js';
export { parseStationInformation } from './information.js';
export type { InformationParseOptions } from './information.js';
export { parseSystemInformation } from './system.js';
export { parseVehicleTypes, bikeTypeOf } from './vehicle-types.js';
export { parseDiscovery } from './discovery.js';
export type { FeedUrls } from './discovery.js';
export { checkDocumentTime } from './document-time.js';
export type { DocumentTimeOptions } from './document-time.js';
export { rfc3339ToSec } from './values.js';
