#!/usr/bin/env node
// The docs check (run by `pnpm lint`; `.ci/run` adds --api after `pnpm docs:api`):
//   - links: every relative link of docs/*.md, the root README and CONTRIBUTING and every package's and example's
//     README points to a file or directory that exists, and its #anchor (if any) to a heading or an explicit
//     anchor of the target Markdown file (GitHub's slugs). Links with a scheme (https:, mailto:) are not fetched.
//   - Node versions: every packages/*/package.json and examples/*/package.json says `engines.node` exactly as the
//     root package.json does, and no Markdown file states another minimum ("Node 20 or later", "Node >= 20").
//   - with --api: the generated API reference (docs/api, from `pnpm docs:api`) has a module, named by its import
//     path, and a page for every `exports` subpath of every public package, and nothing from a test or fixture.
// The packages are read from packages/*/package.json at every run: a new package is checked without any change
// here.
//   node scripts/check-docs.mjs [--api]
// Exits 1 when a problem is found, 2 on a usage or setup error.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { importPath, isTestSource, publicPackages, workspacePackages } from './lib/packages.mjs';

const root = join(import.meta.dirname, '..');
const args = process.argv.slice(2);
for (const arg of args) {
  if (arg !== '--api') {
    console.error(`unknown option ${arg}\nusage: node scripts/check-docs.mjs [--api]`);
    process.exit(2);
  }
}
const checkApi = args.includes('--api');
const problems = [];
const problem = (where, message) => problems.push(`${where}: ${message}`);

// ---------------------------------------------------------------------------------------------------- links

/** The Markdown files whose links are checked. */
function markdownFiles() {
  const files = ['README.md', 'CONTRIBUTING.md'].filter((f) => existsSync(join(root, f)));
  for (const f of readdirSync(join(root, 'docs'))) if (f.endsWith('.md')) files.push(`docs/${f}`);
  for (const group of ['packages', 'examples']) {
    for (const dir of readdirSync(join(root, group))) {
      if (existsSync(join(root, group, dir, 'README.md'))) files.push(`${group}/${dir}/README.md`);
    }
  }
  return files;
}

/** A fenced code block: its opening fence, up to the same fence at the same indentation. */
const FENCED = /^([ \t]*)(`{3,}|~{3,})[^\n]*\n[\s\S]*?^\1\2[ \t]*$/gm;

/** Markdown without fenced code blocks and inline code spans (their brackets are not links). */
function prose(text) {
  return text
    .replace(FENCED, (block) => block.replace(/[^\n]/g, ' '))
    .replace(/`[^`\n]*`/g, (code) => ' '.repeat(code.length));
}

/** GitHub's heading slug: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading) {
  return heading
    .trim()
    .toLowerCase()
    .replace(/<[^>]+>/g, '')
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

const anchorCache = new Map();
/** The anchors of a Markdown file: its headings' slugs (duplicates numbered as GitHub does) and `<a id|name>`. */
function anchorsOf(file) {
  let anchors = anchorCache.get(file);
  if (anchors) return anchors;
  anchors = new Set();
  const text = readFileSync(file, 'utf8');
  const counts = new Map();
  const withoutCode = text.replace(FENCED, '');
  for (const [, heading] of withoutCode.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = slug(heading.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/`/g, ''));
    const n = counts.get(base) ?? 0;
    counts.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  for (const [, id] of text.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(id);
  anchorCache.set(file, anchors);
  return anchors;
}

function checkLinks() {
  for (const file of markdownFiles()) {
    const text = prose(readFileSync(join(root, file), 'utf8'));
    const lines = text.split('\n');
    lines.forEach((line, i) => {
      const where = `${file}:${i + 1}`;
      // [text](target) and [text](target "title"); images too. Reference definitions: [id]: target.
      const targets = [
        ...[...line.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]),
        ...[...line.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/g)].map((m) => m[1]),
      ];
      for (const target of targets) checkLink(file, where, target);
    });
  }
}

function checkLink(file, where, target) {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return; // https:, mailto:...
  const [pathPart, anchor] = target.split('#', 2);
  const path = decodeURIComponent(pathPart ?? '');
  const resolved = path ? resolve(root, dirname(file), path) : join(root, file);
  const rel = relative(root, resolved);
  if (rel.startsWith('..')) return problem(where, `link outside the repository: ${target}`);
  if (rel === 'docs/api' || rel.startsWith('docs/api/')) {
    // Generated by `pnpm docs:api` (not committed): checked only when it is there.
    if (!existsSync(join(root, 'docs', 'api'))) return;
  }
  if (!existsSync(resolved)) return problem(where, `broken link: ${target} (no ${rel})`);
  if (anchor === undefined || anchor === '') return;
  if (statSync(resolved).isDirectory()) {
    const readme = join(resolved, 'README.md');
    if (!existsSync(readme)) return problem(where, `anchor into a directory without README.md: ${target}`);
    if (!anchorsOf(readme).has(anchor)) problem(where, `no heading or anchor #${anchor} in ${rel}/README.md`);
    return;
  }
  if (!resolved.endsWith('.md')) {
    if (!/^L\d+(-L\d+)?$/.test(anchor))
      problem(where, `anchor #${anchor} into a non-Markdown file: ${target}`);
    return;
  }
  if (!anchorsOf(resolved).has(decodeURIComponent(anchor))) {
    problem(where, `no heading or anchor #${anchor} in ${rel}`);
  }
}

// --------------------------------------------------------------------------------------------- Node versions

function checkNodeVersions() {
  const wanted = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).engines?.node;
  if (!wanted) return problem('package.json', 'no engines.node');
  for (const { dir, pkg } of workspacePackages(root)) {
    const where = `${relative(root, dir)}/package.json`;
    if (pkg.engines?.node !== wanted) {
      problem(where, `engines.node is ${JSON.stringify(pkg.engines?.node)}, the root says "${wanted}"`);
    }
  }
  // "Node >= 20", "Node 20 or later", "Node.js 20+": a stated minimum must be the root's.
  const minimum = wanted.replace(/^>=\s*/, '');
  const claim =
    /\bNode(?:\.js)?\s*(?:>=\s*v?(\d+(?:\.\d+)*)|v?(\d+(?:\.\d+)*)\s*(?:\+|or later|or newer|or above))/g;
  for (const file of markdownFiles()) {
    readFileSync(join(root, file), 'utf8')
      .split('\n')
      .forEach((line, i) => {
        for (const m of line.matchAll(claim)) {
          const stated = m[1] ?? m[2];
          if (stated !== minimum) {
            problem(`${file}:${i + 1}`, `says "${m[0]}"; the supported minimum is Node >= ${minimum}`);
          }
        }
      });
  }
}

// ------------------------------------------------------------------------------------------- API reference

function checkApiReference() {
  const out = join(root, 'docs', 'api');
  const jsonFile = join(out, 'api.json');
  if (!existsSync(jsonFile)) {
    console.error('docs/api/api.json is missing: run `pnpm docs:api` first');
    process.exit(2);
  }
  const project = JSON.parse(readFileSync(jsonFile, 'utf8'));
  const modules = new Map((project.children ?? []).map((m) => [m.name, m]));
  // Page titles: "<module> | <project>".
  const titles = new Set();
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.html')) {
        const title = readFileSync(full, 'utf8').match(/<title>([^<]*)<\/title>/)?.[1];
        if (title) titles.add(title.split(' | ')[0]);
      }
    }
  };
  walk(out);

  const expected = new Set();
  for (const { pkg, entries } of publicPackages(root)) {
    for (const { subpath } of entries) expected.add(importPath(pkg.name, subpath));
  }
  for (const name of expected) {
    if (!modules.has(name)) problem('docs/api', `no module for the export ${name}`);
    else if (!titles.has(name)) problem('docs/api', `no page for the export ${name}`);
  }
  for (const name of modules.keys()) {
    if (!expected.has(name))
      problem('docs/api', `module ${name} is not an export subpath of a public package`);
  }
  // Nothing documented may come from a test file or a fixture.
  const seen = new Set();
  const visit = (node) => {
    for (const source of node.sources ?? []) {
      if (isTestSource(source.fileName) && !seen.has(source.fileName)) {
        seen.add(source.fileName);
        problem('docs/api', `documents ${node.name} from the test file ${source.fileName}`);
      }
    }
    for (const key of ['children', 'signatures', 'groups']) {
      for (const child of node[key] ?? []) if (typeof child === 'object') visit(child);
    }
  };
  visit(project);
  if (!problems.length) {
    console.log(`docs/api: ${expected.size} export subpaths, each a module with a page; no test files`);
  }
}

checkLinks();
checkNodeVersions();
if (checkApi) checkApiReference();

if (problems.length) {
  for (const p of problems) console.error(p);
  console.error(`\n${problems.length} problem(s)`);
  process.exit(1);
}
console.log(`docs: links, Node versions${checkApi ? ' and the API reference' : ''} OK`);
