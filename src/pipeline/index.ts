export { Pipeline, type PipelineOptions, type PipelineListener, type PipelineCounts } from './pipeline.js';
export { replay, type ReplayOptions, type ReplaySummary } from './replay.js';
export { Producer } from './producer.js';
