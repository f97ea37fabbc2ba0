#!/usr/bin/env node
/*
 * Keeps one child process alive: restarts it when it exits, with capped exponential backoff.
 *
 * Why: fabric-shim's chaincode server calls process.exit() when any one Connect stream sends a
 * message it does not expect, which takes the chaincode away from every peer at once. Whatever
 * starts the chaincode server must therefore restart it; peers (Fabric's and the devnet's) redial
 * on their next invocation.
 *
 * Usage: supervise.js --pid-file F --log-file L [--name N] -- command args...
 * The supervisor writes its own pid to F; SIGTERM/SIGINT stop the child and then the supervisor.
 */
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');

const argv = process.argv.slice(2);
const sep = argv.indexOf('--');
if (sep < 0 || sep === argv.length - 1) {
  console.error('usage: supervise.js --pid-file F --log-file L [--name N] -- command args...');
  process.exit(2);
}
const opts = {};
for (let i = 0; i < sep; i += 2) opts[argv[i].replace(/^--/, '')] = argv[i + 1];
const [cmd, ...args] = argv.slice(sep + 1);
const name = opts.name || cmd;
const log = opts['log-file'] ? fs.openSync(opts['log-file'], 'a') : 'inherit';
if (opts['pid-file']) fs.writeFileSync(opts['pid-file'], String(process.pid));

let child = null;
let stopping = false;
let backoffMs = 250;
let startedAt = 0;

function note(msg) {
  const line = JSON.stringify({ time: new Date().toISOString(), supervisor: name, msg }) + '\n';
  if (typeof log === 'number') fs.writeSync(log, line);
  else process.stderr.write(line);
}

function start() {
  startedAt = Date.now();
  child = spawn(cmd, args, { stdio: ['ignore', log, log], env: process.env });
  note(`started pid ${child.pid}`);
  child.on('exit', (code, signal) => {
    child = null;
    if (stopping) {
      note('stopped');
      if (opts['pid-file']) fs.rmSync(opts['pid-file'], { force: true });
      process.exit(0);
    }
    // A child that ran for a while gets a fresh backoff; a crash loop backs off up to 10 s.
    backoffMs = Date.now() - startedAt > 10000 ? 250 : Math.min(backoffMs * 2, 10000);
    note(`exited (code ${code}, signal ${signal}); restarting in ${backoffMs} ms`);
    setTimeout(start, backoffMs);
  });
}

function stop() {
  stopping = true;
  if (child) child.kill('SIGTERM');
  else {
    if (opts['pid-file']) fs.rmSync(opts['pid-file'], { force: true });
    process.exit(0);
  }
  setTimeout(() => child && child.kill('SIGKILL'), 5000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
start();
