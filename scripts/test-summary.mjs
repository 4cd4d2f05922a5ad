#!/usr/bin/env node
// Adds up the "Tests ..." lines that every package's vitest printed (through turbo) into one closing line:
//   node scripts/test-summary.mjs test-output.log
import { readFileSync } from 'node:fs';

const file = process.argv[2];
if (!file) {
  console.error('usage: node scripts/test-summary.mjs <log file>');
  process.exit(2);
}
// biome-ignore lint/suspicious/noControlCharactersInRegex: strips ANSI colour codes
const text = readFileSync(file, 'utf8').replace(/\u001b\[[0-9;]*m/g, '');
const totals = { passed: 0, failed: 0, skipped: 0, todo: 0 };
let files = 0;
for (const line of text.split('\n')) {
  const m = line.match(/^\S*:?test:\s+Tests\s+(.*)\(\d+\)\s*$/) ?? line.match(/^\s*Tests\s+(.*)\(\d+\)\s*$/);
  if (!m) continue;
  files++;
  for (const part of m[1].split('|')) {
    const n = part.trim().match(/^(\d+)\s+(passed|failed|skipped|todo)/);
    if (n) totals[n[2]] += Number(n[1]);
  }
}
console.log(`packages reporting: ${files}`);
console.log(`${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(totals.failed > 0 ? 1 : 0);
