/** Helpers of the serverless tests: a handler's environment, stores, and the replay of a run. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../src/log/index.js';
import { createFetchHandler, serverlessConfig, type FetchHandler } from '../../src/serverless/index.js';
import { openStore, type Store } from '../../src/storage/index.js';

export interface TempDir {
  path: string;
  file(name: string): string;
  remove(): void;
}

export function tempDir(prefix: string): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return {
    path,
    file: (name) => join(path, name),
    remove: () => rmSync(path, { recursive: true, force: true }),
  };
}

/**
 * A fresh fetch function "container": its own handler and its own connection to the store (as
 * each Lambda execution environment has), configured by DOCKWATCH_* variables only.
 */
export function fetchContainer(
  env: Record<string, string>,
  opts: { now?: () => number; stores?: Store[] } = {},
): FetchHandler {
  const config = serverlessConfig(env);
  return createFetchHandler({
    config,
    logger: silentLogger,
    openStore: async () => {
      const store = await openStore(config.storeUrl);
      opts.stores?.push(store);
      return store;
    },
    runner: { requestTimeoutMs: 5_000, ...(opts.now ? { now: opts.now } : {}) },
  });
}
