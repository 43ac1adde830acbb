/**
 * Preloaded into a measured child (`node --import ./bench/rusage-preload.js …`): at exit, writes the
 * child's own getrusage (peak RSS, user and system CPU) to $DOCKWATCH_BENCH_RUSAGE_FILE. The kernel's
 * ru_maxrss is exact, where polling /proc from the parent can miss a last-moment peak.
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
