/**
 * bin/dockwatch, what `npm start` and the installed `dockwatch` run: it must find the CLI through
 * npm's symlink, pass the arguments on, and give node glibc's allocator options unless the user
 * already chose them (docs/performance.md §3).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, repoRoot } from '../helpers/cli.js';

const run = promisify(execFile);
const launcher = join(repoRoot, 'bin/dockwatch');
const { version } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };

describe('bin/dockwatch', () => {
  let dir: string;
  let linked: string;
  /** Preloaded by node: prints what the allocator options are inside the started process. */
  let probe: string;

  beforeAll(() => {
    assertBuilt();
    dir = mkdtempSync(join(tmpdir(), 'dockwatch-launcher-'));
    // As npm installs it: node_modules/.bin/dockwatch → ../dockwatch/bin/dockwatch (relative).
    linked = join(dir, 'dockwatch');
    symlinkSync(relative(dir, launcher), linked);
    probe = join(dir, 'probe.mjs');
    writeFileSync(
      probe,
      'console.log(JSON.stringify({ arenas: process.env.MALLOC_ARENA_MAX, mmap: process.env.MALLOC_MMAP_THRESHOLD_ }));\n',
    );
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs the CLI with its arguments, also through a symlink from another directory', async () => {
    for (const bin of [launcher, linked]) {
      const { stdout } = await run(bin, ['--version'], { cwd: tmpdir() });
      expect(stdout.trim()).toBe(version);
    }
  });

  it('sets the allocator options for the services only, and keeps the ones the user set', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: `--import ${probe}` };
    delete env['MALLOC_ARENA_MAX'];
    delete env['MALLOC_MMAP_THRESHOLD_'];
    const seen = async (args: string[], extra: NodeJS.ProcessEnv = {}): Promise<unknown> =>
      JSON.parse((await run(linked, args, { env: { ...env, ...extra } })).stdout.split('\n')[0]!);

    expect(await seen(['watch', '--help'])).toEqual({ arenas: '2', mmap: '131072' });
    expect(await seen(['watch', '--help'], { MALLOC_ARENA_MAX: '4' })).toEqual({
      arenas: '4',
      mmap: '131072',
    });
    // Batch commands keep glibc's defaults (faster for them).
    expect(await seen(['replay', '--help'])).toEqual({});
  });
});
