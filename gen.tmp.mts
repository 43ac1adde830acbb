import { generateDocuments } from './src/sim/index.js';
const from = Date.UTC(2025, 9, 6) / 1000;
let t0 = performance.now(), n = 0;
for (const _ of generateDocuments({ fromSec: from, toSec: from + 42 * 86400, stepSec: 600, stations: { path: '/work/shared/data/velib-2025-10' } })) n++;
console.log('velib 6 weeks', n, Math.round(performance.now() - t0), 'ms');
