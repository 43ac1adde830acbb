import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, VELIB_GBFS_URL } from './index.js';

describe('loadConfig', () => {
  it('defaults to Vélib with a 60 s poll', () => {
    const config = loadConfig({}, {});
    expect(config.feedUrl).toBe(VELIB_GBFS_URL);
    expect(config.pollIntervalSec).toBe(60);
    expect(config.port).toBe(8080);
  });

  it('takes DOCKWATCH_* variables and lets flags win', () => {
    const env = { DOCKWATCH_POLL_INTERVAL_SEC: '30', DOCKWATCH_PORT: '9000' };
    const config = loadConfig({ port: '9100' }, env);
    expect(config.pollIntervalSec).toBe(30);
    expect(config.port).toBe(9100);
  });

  it('reports every bad value with its source', () => {
    const env = { DOCKWATCH_POLL_INTERVAL_SEC: 'often', DOCKWATCH_TIMEZONE: 'Mars/Olympus' };
    let error: unknown;
    try {
      loadConfig({ feedUrl: 'ftp://example.org/gbfs.json' }, env);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toContain('DOCKWATCH_POLL_INTERVAL_SEC = "often"');
    expect(problems).toContain('DOCKWATCH_TIMEZONE');
    expect(problems).toContain('--feed-url');
    expect((error as ConfigError).problems).toHaveLength(3);
  });
});
