/** Notification counters, on the process-wide registry so GET /metrics shows them. */
import { Counter, Gauge } from 'prom-client';
import { registry } from '../metrics/index.js';

export const notifyMetrics = {
  announcements: new Counter({
    name: 'dockwatch_notify_announcements_total',
    help: 'State changes announced after holding (stale = held too long ago to be sent)',
    labelNames: ['system', 'to', 'stale'] as const,
    registers: [registry],
  }),
  attempts: new Counter({
    name: 'dockwatch_notify_delivery_attempts_total',
    help: 'Webhook and push delivery attempts, by channel and outcome (delivered, retry, dead)',
    labelNames: ['channel', 'outcome'] as const,
    registers: [registry],
  }),
  pending: new Gauge({
    name: 'dockwatch_notify_outbox_pending',
    help: 'Deliveries waiting in the outbox (first try or retry)',
    registers: [registry],
  }),
  pruned: new Counter({
    name: 'dockwatch_notify_pruned_total',
    help: 'Rows deleted by the notification retention job, by table (outbox, attempts, announcements, webhooks)',
    labelNames: ['table'] as const,
    registers: [registry],
  }),
  pushRefused: new Counter({
    name: 'dockwatch_notify_push_refused_total',
    help: 'Public push subscription requests refused: rate_limited (429 per client IP) or full (409, the cap)',
    labelNames: ['reason'] as const,
    registers: [registry],
  }),
  errors: new Counter({
    name: 'dockwatch_notify_errors_total',
    help: 'Failed notifier steps (store errors…): retried at the next step, nothing lost',
    labelNames: ['stage'] as const,
    registers: [registry],
  }),
};
