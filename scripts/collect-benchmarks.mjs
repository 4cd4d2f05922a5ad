#!/usr/bin/env node
// Merges every packages/<pkg>/bench/results.json (written by each package's `pnpm bench` through the
// harness's recordBenchResults) into bench-results.json at the root, regenerates the table between the
// bench-results markers of docs/benchmarks.md from it, and rebuilds the "Results" part from every
// packages/<pkg>/bench/RESULTS.md. Everything else is kept as written.
//   node scripts/collect-benchmarks.mjs
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const docPath = join(root, 'docs', 'benchmarks.md');
let doc = readFileSync(docPath, 'utf8');

const runs = [];
for (const pkg of readdirSync(join(root, 'packages')).sort()) {
  const file = join(root, 'packages', pkg, 'bench', 'results.json');
  if (existsSync(file)) runs.push(JSON.parse(readFileSync(file, 'utf8')));
}
writeFileSync(join(root, 'bench-results.json'), `${JSON.stringify({ packages: runs }, null, 2)}\n`);
const fmt = (x) => `${x.toFixed(2)}x`;
const table = [
  '| package | measure | anchor | target | median (runs) | spread | met | recorded |',
  '|---|---|---|---|---|---|---|---|',
  ...runs.flatMap((run) =>
    run.measures.map(
      (m) =>
        `| ${run.package} | ${m.measure}${m.note ? ` (${m.note})` : ''} | ${m.anchor} | ${m.target === undefined ? '—' : `>= ${m.target}x`} | **${fmt(m.median)}** (${m.ratios.length}) | ${fmt(m.min)}-${fmt(m.max)} | ${m.met === null ? '—' : m.met ? 'yes' : '**no**'} | ${run.at.slice(0, 16).replace('T', ' ')}, load ${run.machine.loadavg[0].toFixed(1)} |`,
    ),
  ),
].join('\n');
const start = '<!-- bench-results:start -->';
const end = '<!-- bench-results:end -->';
if (doc.includes(start) && doc.includes(end)) {
  doc = `${doc.slice(0, doc.indexOf(start) + start.length)}\n${table}\n${doc.slice(doc.indexOf(end))}`;
}
const marker = '\n## Results\n';
const head = doc.includes(marker) ? doc.slice(0, doc.indexOf(marker)) : doc.trimEnd();

const sections = [];
for (const pkg of readdirSync(join(root, 'packages')).sort()) {
  const file = join(root, 'packages', pkg, 'bench', 'RESULTS.md');
  if (!existsSync(file)) continue;
  // Demote the package file's headings two levels so they nest under "## Results".
  const body = readFileSync(file, 'utf8')
    .replace(/^(#{1,4}) /gm, (_, hashes) => `${hashes}## `)
    .trim();
  sections.push(
    `${body}\n\n<sub>Source: [packages/${pkg}/bench/RESULTS.md](../packages/${pkg}/bench/RESULTS.md)</sub>`,
  );
}

writeFileSync(
  docPath,
  `${head}\n${marker}\nCollected from each package's \`bench/RESULTS.md\` by \`node scripts/collect-benchmarks.mjs\`.\n\n${sections.join('\n\n---\n\n')}\n`,
);
console.log(`docs/benchmarks.md: ${sections.length} packages, ${runs.length} results.json`);
