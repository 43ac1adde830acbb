/**
 * Preloaded into a measured child (`node --import ./bench/rusage-preload.js …`): at exit, writes the
 * child's own getrusage (peak RSS, user and system CPU) to $DOCKWATCH_BENCH_RUSAGE_FILE. The kernel's
 * ru_maxrss is exact, where polling /proc from the parent can miss a last-moment peak.
 */
import { writeFileSync } from 'node:fs';

const file = process.env.DOCKWATCH_BENCH_RUSAGE_FILE;
if (file) {
  process.on('exit', () => {
    const u = process.resourceUsage();
    // Linux reports maxRSS in kilobytes.
    const report = { maxRssBytes: u.maxRSS * 1024, userCpuSec: u.userCPUTime / 1e6, systemCpuSec: u.systemCPUTime / 1e6 };
    try {
      writeFileSync(file, JSON.stringify(report));
    } catch {
      // The parent falls back on /proc polling.
    }
  });
}
