#!/usr/bin/env node
import { generateApiKey, hashApiKey } from './auth/apiKeys';
import { ConfigError, loadConfig } from './config';

/** `node gateway/dist/main.js [--config <file>]` — see gateway/README.md for every setting. */
async function main(): Promise<void> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(
      'usage: node gateway/dist/main.js [--config <file.json|yaml>]   start the gateway\n' +
        '       node gateway/dist/main.js api-key                         print a new API key and its sha256 (for the API keys file)\n' +
        'Settings and environment variables: gateway/README.md\n',
    );
    return;
  }
  if (process.argv[2] === 'api-key') {
    const apiKey = generateApiKey();
    process.stdout.write(`${JSON.stringify({ apiKey, sha256: hashApiKey(apiKey) })}\n`);
    return;
  }
  const config = loadConfig({ argv: process.argv.slice(2) });
  // loaded only now: fabric-common (via fabric-ca-client) parses process.argv with yargs when imported
  const { startGateway } = await import('./gateway');
  const gw = await startGateway(config);
  process.stdout.write(`gridledger gateway listening on ${gw.url} (org ${gw.org}; OpenAPI at ${gw.url}/openapi.json)\n`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${signal}: draining in-flight work…\n`);
    gw.close().then(
      () => process.exit(0),
      (e) => {
        process.stderr.write(`shutdown failed: ${(e as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((e: unknown) => {
  if (e instanceof ConfigError) {
    process.stderr.write(`${e.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`gateway failed to start: ${(e as Error)?.stack ?? String(e)}\n`);
  process.exit(1);
});
