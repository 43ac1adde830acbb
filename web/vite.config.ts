import { defineConfig } from 'vite';

// Root is web/: `npx vite build web` writes web/dist, which the API server serves.
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // One small entry; Leaflet (map page) and uPlot (charts) load on demand as their own chunks.
    chunkSizeWarningLimit: 200,
  },
  server: { proxy: { '/api': 'http://127.0.0.1:8080', '/docs': 'http://127.0.0.1:8080' } },
});
