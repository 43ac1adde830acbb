/** The feed stage: the normalised model, parsing of every GBFS version, HTTP polling. */
export * from './model.js';
export * from './parse/index.js';
export * from './http/index.js';
