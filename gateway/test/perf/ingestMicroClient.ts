/**
 * Measurement tool (not a test): the meters of ingestMicroServer.ts post readings — 200 × 1 at once
 * (twice: the first also warms up), 200 × 5 one per second each, 200 × 10 as fast as acknowledged —
 * and it prints ack p50/p99 and the gateway's and this client's CPU per request.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

const { url, meters, pid } = JSON.parse(fs.readFileSync(path.join(process.env.MICRO_DIR ?? '/tmp/gridledger-micro', 'meters.json'), 'utf8')) as { url: string; pid: number; meters: Array<{ meterId: string; apiKey: string }> };
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
const cpu = () => { const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8'); const x = f.slice(f.lastIndexOf(')') + 2).split(' '); return (Number(x[11]) + Number(x[12])) * 10; };
function post(m: { meterId: string; apiKey: string }, k: number): Promise<number> {
  const start = 1_700_000_000 - (1_700_000_000 % 900) + k * 900;
  const body = JSON.stringify({ intervalStart: start, intervalLength: 900, importWh: 1, exportWh: 2, importRegisterWh: 10 + k, exportRegisterWh: 20 + 2 * k });
  const t = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}/api/v1/meters/${m.meterId}/readings`, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${m.apiKey}`, 'idempotency-key': `${m.meterId}-${k}-${process.env.RUN ?? ''}` } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 202 ? resolve(performance.now() - t) : reject(new Error(String(res.statusCode)))));
    });
    req.on('error', reject);
    req.end(body);
  });
}
const q = (a: number[], p: number) => a.sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor((a.length * p) / 100))]!.toFixed(1);
async function main(): Promise<void> {
  const base = Number(process.env.K0 ?? 0);
  for (const [name, steps, pace] of [['burst', 1, 0], ['burst2', 1, 0], ['steady', 5, 1000], ['backlog', 10, 0]] as const) {
    const c0 = cpu(); const cl0 = process.cpuUsage(); const t0 = Date.now(); const acks: number[] = [];
    const k0 = base + (name === 'burst' ? 0 : name === 'burst2' ? 1 : name === 'steady' ? 2 : 7);
    await Promise.all(meters.map(async (m, i) => {
      for (let s = 0; s < steps; s++) {
        if (pace) { const at = t0 + s * pace + Math.floor((i * pace) / meters.length); if (at > Date.now()) await new Promise((r) => setTimeout(r, at - Date.now())); }
        acks.push(await post(m, k0 + s));
      }
    }));
    const wall = Date.now() - t0; const cl = process.cpuUsage(cl0);
    console.log(`${name}: n=${acks.length} ack p50 ${q(acks, 50)} p99 ${q(acks, 99)} max ${q(acks, 100)} ms; wall ${wall} ms; gateway CPU ${((cpu() - c0) / acks.length).toFixed(2)} ms/req; client CPU ${((cl.user + cl.system) / 1000 / acks.length).toFixed(2)} ms/req`);
    await new Promise((r) => setTimeout(r, 3000));
  }
  agent.destroy();
}
void main();
