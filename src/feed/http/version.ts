import { readFileSync } from 'node:fs';

/**
 * The package version, read once from package.json. The relative path holds both from `src/feed/http`
 * (tsx, vitest) and from `dist/feed/http` (the build).
 */
function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      version?: unknown;
    };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

export const DOCKWATCH_VERSION = readVersion();
export const USER_AGENT = `dockwatch/${DOCKWATCH_VERSION} (+https://github.com/dockwatch/dockwatch)`;
