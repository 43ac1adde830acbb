export { createApiServer, tileOrigins, DEFAULT_TILE_URL, type ApiServerOptions } from './server.js';
export { LiveBus, createLiveBus, type LiveMessage, type LiveListener } from './live.js';
export { API_ERRORS, ApiError, type ApiErrorCode, type ApiErrorBody } from './errors.js';
export type { StationView, StateCategory } from './station-view.js';
