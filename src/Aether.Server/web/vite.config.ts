import { defineConfig } from 'vitest/config';

// Served by the daemon under /ui (embedded in Aether.Server): every asset is relative to it, nothing from elsewhere.
export default defineConfig({
  base: '/ui/',
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    emptyOutDir: true,
    chunkSizeWarningLimit: 1024,
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.ts'],
  },
});
