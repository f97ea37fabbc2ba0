#!/usr/bin/env node
/** Writes docs/transactions.md from the built catalogue (run `npm run build` first). */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { renderCatalogue } = require('../dist/schemas/catalogue.js');

const file = path.join(__dirname, '..', '..', '..', 'docs', 'transactions.md');
fs.writeFileSync(file, renderCatalogue() + '\n');
process.stdout.write(`wrote ${path.relative(process.cwd(), file)}\n`);
