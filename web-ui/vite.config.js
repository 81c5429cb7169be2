import { defineConfig } from 'vite';

export default defineConfig({
  base: '/',
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 600 },
  worker: { format: 'es' },
  test: { include: ['test/**/*.test.js'], environment: 'node' },
});
