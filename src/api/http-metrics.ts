/** HTTP latency histogram, registered once in the process-wide registry (several servers in tests). */
import { Histogram } from 'prom-client';
import { registry } from '../metrics/index.js';

const NAME = 'dockwatch_http_request_seconds';

export function httpLatencyHistogram(): Histogram<'method' | 'route' | 'status'> {
  const existing = registry.getSingleMetric(NAME);
  if (existing) return existing as Histogram<'method' | 'route' | 'status'>;
  return new Histogram({
    name: NAME,
    help: 'HTTP request duration, by method, route pattern and status code',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1],
    registers: [registry],
  });
}
