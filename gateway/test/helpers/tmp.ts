import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';

export function tmpDir(prefix = 'gw-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export const silentLogger = pino({ level: 'silent' });
