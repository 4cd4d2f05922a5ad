// What the repository's scripts need to know about its packages, read from packages/*/package.json at every run
// (a new package needs no change here): the workspace packages, the public ones, and the source file of each
// `exports` subpath (through the package's tsup `entry` map).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import ts from 'typescript';

/** The tsup `entry` map (name -> source path relative to the package), read from tsup.config.ts's AST. */
export function readTsupEntries(dir) {
  const entries = new Map();
  const file = ['tsup.config.ts', 'tsup.config.mts', 'tsup.config.js', 'tsup.config.mjs']
    .map((f) => join(dir, f))
    .find((f) => existsSync(f));
  if (!file) return entries;
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const visit = (node) => {
    // `entry: {...}` in a tsup config, or the first argument of the shared `packageBuild({...})`.
    const isEntryProperty = ts.isPropertyAssignment(node) && node.name.getText(sf) === 'entry';
    const isPackageBuild =
      ts.isCallExpression(node) &&
      node.expression.getText(sf) === 'packageBuild' &&
      node.arguments.length > 0;
    if (isEntryProperty || isPackageBuild) {
      const init = isEntryProperty ? node.initializer : node.arguments[0];
      if (ts.isObjectLiteralExpression(init)) {
        for (const prop of init.properties) {
          if (ts.isPropertyAssignment(prop) && ts.isStringLiteralLike(prop.initializer)) {
            const name = ts.isStringLiteralLike(prop.name) ? prop.name.text : prop.name.getText(sf);
            entries.set(name, prop.initializer.text);
          }
        }
      } else if (ts.isArrayLiteralExpression(init)) {
        for (const el of init.elements) {
          if (ts.isStringLiteralLike(el))
            entries.set(basename(el.text).replace(/\.[cm]?[jt]sx?$/, ''), el.text);
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return entries;
}

/** The runtime file an `exports` target points to (`./dist/x.js`), preferring import > default > require. */
export function exportTarget(value) {
  if (typeof value === 'string') return /\.d\.[cm]?ts$/.test(value) ? undefined : value;
  if (value && typeof value === 'object') {
    const keys = ['import', 'default', 'require', ...Object.keys(value)];
    for (const key of keys) {
      if (key === 'types' || !(key in value)) continue;
      const found = exportTarget(value[key]);
      if (found) return found;
    }
  }
  return undefined;
}

/** Source files of a package's entry points: [{ subpath, file }]. */
export function entryPoints(dir, pkg) {
  const tsup = readTsupEntries(dir);
  const exportsMap =
    typeof pkg.exports === 'string' || (pkg.exports && !Object.keys(pkg.exports)[0]?.startsWith('.'))
      ? { '.': pkg.exports }
      : (pkg.exports ?? {});
  const out = [];
  for (const [subpath, value] of Object.entries(exportsMap)) {
    const target = exportTarget(value);
    if (!target || !/\.[cm]?js$/.test(target)) continue; // ./package.json and other non-code exports
    const name = target
      .replace(/^\.\//, '')
      .replace(/^dist\//, '')
      .replace(/\.[cm]?js$/, '');
    let source = tsup.get(name);
    if (!source) {
      // No tsup entry of that name: assume dist/<name>.js is built from src/<name>.ts.
      source = ['ts', 'tsx', 'mts'].map((ext) => `src/${name}.${ext}`).find((f) => existsSync(join(dir, f)));
    }
    if (!source || !existsSync(join(dir, source))) {
      console.error(`${pkg.name}: cannot find the source of export "${subpath}" (${target})`);
      process.exitCode = 2;
      continue;
    }
    out.push({ subpath, file: resolve(dir, source) });
  }
  return out;
}

/** Every workspace package (packages/* and examples/*): [{ dir, pkg }], sorted by directory. */
export function workspacePackages(root, groups = ['packages', 'examples']) {
  const out = [];
  for (const group of groups) {
    for (const entry of readdirSync(join(root, group), { withFileTypes: true })) {
      const manifest = join(root, group, entry.name, 'package.json');
      if (!entry.isDirectory() || !existsSync(manifest)) continue;
      out.push({ dir: join(root, group, entry.name), pkg: JSON.parse(readFileSync(manifest, 'utf8')) });
    }
  }
  return out.sort((a, b) => a.dir.localeCompare(b.dir));
}

/** The publishable packages (packages/* not `private`) with their entry points: [{ dir, pkg, entries }]. */
export function publicPackages(root) {
  return workspacePackages(root, ['packages'])
    .filter(({ pkg }) => !pkg.private)
    .map(({ dir, pkg }) => ({ dir, pkg, entries: entryPoints(dir, pkg) }));
}

/** The import path of a package's export subpath: ('@app/otp', './redis') -> '@app/otp/redis'. */
export function importPath(name, subpath) {
  return subpath === '.' ? name : `${name}/${subpath.replace(/^\.\//, '')}`;
}

/** A test file, a test helper directory or a fixture: never part of the API reference. */
export function isTestSource(file) {
  return /(^|[\\/])(__tests__|__fixtures__|fixtures?|test-helpers?)[\\/]|\.(test|spec|bench)\.[cm]?[jt]sx?$/.test(
    file,
  );
}
