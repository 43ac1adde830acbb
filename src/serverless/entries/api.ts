/** Lambda entry of the API function (bundled to dist/lambda/api/index.mjs). */
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { createLogger } from '../../log/index.js';
import { openStore } from '../../storage/index.js';
import { createApiLambda, type ApiLambda } from '../api-handler.js';
import { serverlessConfig } from '../config.js';

const config = serverlessConfig();
const logger = createLogger({ level: config.config.logLevel, pretty: false });
let api: Promise<ApiLambda> | null = null;

function open(): Promise<ApiLambda> {
  api ??= openStore(config.storeUrl, { logger }).then((store) =>
    createApiLambda({
      store,
      system: config.system,
      timeZone: config.config.timezone ?? 'Europe/Paris',
      pollIntervalSec: config.config.pollIntervalSec,
      logger,
      tileUrl: config.config.tileUrl,
      language: config.config.language,
    }),
  );
  // A failed start is retried by the next request instead of poisoning the container.
  api.catch(() => (api = null));
  return api;
}

export async function handler(event: APIGatewayProxyEventV2, context: Context) {
  return (await open()).handler(event, context);
}
