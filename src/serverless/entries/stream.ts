/** Lambda entry of the DynamoDB stream function (bundled to dist/lambda/stream/index.mjs). */
import { createLogger } from '../../log/index.js';
import { stateChangeFromItem } from '../../storage/dynamodb/index.js';
import { createStreamHandler } from '../stream-handler.js';

const env = process.env;
const logger = createLogger({ level: env['DOCKWATCH_LOG_LEVEL'] ?? 'info', pretty: false });
const url = env['DOCKWATCH_STATE_CHANGE_WEBHOOK_URL'];
const secret = env['DOCKWATCH_STATE_CHANGE_WEBHOOK_SECRET'];
if (url && !secret)
  throw new Error('DOCKWATCH_STATE_CHANGE_WEBHOOK_URL is set without DOCKWATCH_STATE_CHANGE_WEBHOOK_SECRET');

export const handler = createStreamHandler({
  logger,
  decode: stateChangeFromItem,
  ...(url && secret ? { webhook: { url, secret } } : {}),
});
