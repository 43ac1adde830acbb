/** Lambda entry of the scheduled fetch function (bundled to dist/lambda/fetch/index.mjs). */
import { createLogger } from '../../log/index.js';
import { openStore } from '../../storage/index.js';
import { serverlessConfig } from '../config.js';
import { createFetchHandler } from '../fetch-handler.js';

const config = serverlessConfig();
const logger = createLogger({ level: config.config.logLevel, pretty: false });

export const handler = createFetchHandler({
  config,
  logger,
  openStore: () => openStore(config.storeUrl, { logger }),
});
