import { defineConfig } from 'vite';

// One static app served at the API's origin: relative `/v1/...` calls, hash routes, no
// rewrites. `npm run dev` proxies the API to a local stack when one runs on :4000.
export default defineConfig({
  base: '/',
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true, target: 'es2022' },
  server: { proxy: { '/v1': process.env.API_URL ?? 'http://127.0.0.1:4000' } },
});
