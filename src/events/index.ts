export * from './types.js';
export { diffSnapshots, applyDiff, emptyDiffState, type DiffOptions, type DiffResult } from './diff.js';
export { diffInformation, type InformationDiff } from './information.js';
