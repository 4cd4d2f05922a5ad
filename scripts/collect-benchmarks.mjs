#!/usr/bin/env node
// Rebuilds the "Results" part of docs/benchmarks.md from every packages/<pkg>/bench/RESULTS.md, which each
// package's `pnpm bench` run updates. Everything above the "## Results" heading is kept as written.
//   node scripts/collect-benchmarks.mjs
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const docPath = join(root, 'docs', 'benchmarks.md');
const doc = readFileSync(docPath, 'utf8');
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
console.log(`docs/benchmarks.md: ${sections.length} packages`);
