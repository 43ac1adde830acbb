import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { LiveBus } from '../api/index.js';

/** The default system's stream and any system's (`/api/v1/systems/:id/live`). */
export const LIVE_PATH = /^\/api\/v1(\/systems\/[^/]+)?\/live$/;

export function isLiveRequest(event: APIGatewayProxyEventV2): boolean {
  return event.requestContext.http.method === 'GET' && LIVE_PATH.test(event.rawPath);
}

/**
 * GET /api/v1/live without a connection to hold: API Gateway HTTP APIs buffer whole responses
 * (no streaming), so the Server-Sent Events stream becomes one short, complete stream — a `hello`
 * and a `retry` of one poll interval. The browser's EventSource reconnects after that delay
 * (HTML Living Standard, "server-sent events": reconnect after a normal end of stream), and the
 * web app reloads /stations on every hello after the first: the page refreshes once per poll,
 * through the CDN, with no change to the web app.
 */
export function liveFallback(live: LiveBus, pollIntervalSec: number): APIGatewayProxyStructuredResultV2 {
  const hello = { version: live.version, timeSec: live.lastSnapshotSec, streaming: false };
  return {
    statusCode: 200,
    headers: {
      'content-type': 'text/event-stream; charset=utf-8',
      // Shared by every visitor for half an interval: it only says "come back later".
      'cache-control': `public, max-age=${Math.max(1, Math.floor(pollIntervalSec / 2))}`,
      'x-content-type-options': 'nosniff',
      'access-control-allow-origin': '*',
    },
    body: `retry: ${pollIntervalSec * 1000}\nevent: hello\ndata: ${JSON.stringify(hello)}\n\n`,
    isBase64Encoded: false,
  };
}
