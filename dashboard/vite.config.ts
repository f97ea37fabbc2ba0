import { defineConfig } from 'vite';

// Everything is bundled into dist/ (no CDN, no runtime downloads): the gateway serves dist/ at `/`
// under a Content-Security-Policy that allows only its own origin (gateway/src/rest/app.ts).
export default defineConfig({
  base: './',
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', sourcemap: false, chunkSizeWarningLimit: 300 },
});
