import fs from 'node:fs';
import path from 'node:path';

/**
 * The dashboard's built files (`npm run build` → dashboard/dist, Vite), served by the gateway at `/`
 * when present. Found relative to this module, which runs from gateway/src (ts-node, tests) or
 * gateway/dist (built): both are two levels below gateway/.
 */
export function dashboardDir(): string | undefined {
  const dir = path.resolve(__dirname, '..', '..', '..', 'dashboard', 'dist');
  return fs.existsSync(path.join(dir, 'index.html')) ? dir : undefined;
}
