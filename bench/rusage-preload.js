/**
 * Preloaded into a measured child (`node --import ./bench/rusage-preload.js …`): at exit, writes the
 * child's own peak RSS and CPU time to $DOCKWATCH_BENCH_RUSAGE_FILE. The peak is /proc/self/status
 * VmHWM, this process's own high-water mark, read at exit (polling from the parent can miss a
 * last-moment peak). Not getrusage's ru_maxrss: Linux carries it over an exec from the process that
 * forked, and node spawns children by fork + exec, so a child's ru_maxrss is at least the RSS of
 * the benchmark process that started it (a 400 MB parent made an idle 40 MB child report 404 MB).
 * ru_maxrss is still written (maxRssBytes), for comparison, and is the peak where /proc is absent.
 * It also samples process.memoryUsage() every 250 ms and reports the breakdown (V8 heap, external
 * buffers; on Linux anonymous vs file-backed resident memory — the node binary and libraries
 * are file-backed) at the highest RSS sampled: what the peak is made of.
 */
import { readFileSync, writeFileSync } from 'node:fs';

const file = process.env.DOCKWATCH_BENCH_RUSAGE_FILE;
if (file) {
  const MB = 1024 * 1024;
  let atPeak = null;
  const maxima = { heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 };
  const sample = () => {
    const m = process.memoryUsage();
    for (const k of Object.keys(maxima)) maxima[k] = Math.max(maxima[k], m[k]);
    if (atPeak === null || m.rss > atPeak.rss) atPeak = { ...m, ...procRss() };
  };
  /** A `kB` field of /proc/self/status in bytes; null without /proc (not Linux). */
  const procKb = (name) => {
    try {
      const status = readFileSync('/proc/self/status', 'utf8');
      const i = status.indexOf(name);
      return i < 0 ? null : parseInt(status.slice(i + name.length), 10) * 1024;
    } catch {
      return null;
    }
  };
  const procRss = () => {
    try {
      const status = readFileSync('/proc/self/status', 'utf8');
      const kb = (name) => {
        const i = status.indexOf(name);
        return i < 0 ? 0 : parseInt(status.slice(i + name.length), 10) * 1024;
      };
      return { rssAnon: kb('RssAnon:'), rssFile: kb('RssFile:') };
    } catch {
      return {};
    }
  };
  setInterval(sample, 250).unref();
  process.on('exit', () => {
    sample();
    const u = process.resourceUsage();
    const mb = (o) =>
      Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Math.round((10 * v) / MB) / 10]));
    const report = {
      vmHwmBytes: procKb('VmHWM:'),
      // Linux reports maxRSS in kilobytes.
      maxRssBytes: u.maxRSS * 1024,
      userCpuSec: u.userCPUTime / 1e6,
      systemCpuSec: u.systemCPUTime / 1e6,
      memoryAtPeakMB: mb(atPeak),
      memoryMaximaMB: mb(maxima),
    };
    try {
      writeFileSync(file, JSON.stringify(report));
    } catch {
      // The parent falls back on /proc polling.
    }
  });
}
