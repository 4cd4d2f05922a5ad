#!/usr/bin/env node
// The API docs check: for every publishable package, walks each entry point of its `exports` map (mapped back to
// the tsup `entry` source) and reports, for every exported symbol declared in that package:
//   - a function (declaration, or `const` holding an arrow/function expression) without a JSDoc `@example`;
//   - a property of an exported interface/type named `...Options` without a JSDoc description, or optional and
//     without `@default` (a required property needs no default).
// With --methods, public methods of exported classes also need an `@example`. Symbols tagged `@internal` are
// skipped. Re-exports are followed to their declaration; a declaration is reported once even when several
// entry points export it, and only in the package that declares it.
//   node scripts/check-api-docs.mjs [--report] [--methods] [package ...]
//     --report   print the problems but exit 0
//     package    limit to these packages (directory name `core` or package name `@app/core`)
// Exits 1 when a problem is found (without --report), 2 on a usage or setup error.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';
import { entryPoints } from './lib/packages.mjs';

const root = join(import.meta.dirname, '..');
const args = process.argv.slice(2);
const flags = new Set(args.filter((a) => a.startsWith('--')));
const only = args.filter((a) => !a.startsWith('--'));
for (const flag of flags) {
  if (flag !== '--report' && flag !== '--methods') {
    console.error(
      `unknown option ${flag}\nusage: node scripts/check-api-docs.mjs [--report] [--methods] [package ...]`,
    );
    process.exit(2);
  }
}

// One compiler host for every package, caching parsed source files: lib.d.ts, @types/node and the built
// declarations of shared dependencies are parsed once for the whole run, not once per package.
const sourceCache = new Map();
function createHost(options) {
  const host = ts.createCompilerHost(options, true);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
    const key = `${typeof languageVersion === 'object' ? languageVersion.languageVersion : languageVersion}:${fileName}`;
    let file = sourceCache.get(key);
    if (!file) {
      file = getSourceFile(fileName, languageVersion, onError, shouldCreate);
      if (file) sourceCache.set(key, file);
    }
    return file;
  };
  return host;
}

function compilerOptions(dir) {
  const configPath = join(dir, 'tsconfig.json');
  let options = {};
  if (existsSync(configPath)) {
    const parsed = ts.getParsedCommandLineOfConfigFile(
      configPath,
      {},
      { ...ts.sys, onUnRecoverableConfigFileDiagnostic() {} },
    );
    if (parsed) options = parsed.options;
  }
  return { ...options, noEmit: true, skipLibCheck: true, declaration: false, sourceMap: false };
}

const jsDocs = (node) => ts.getJSDocCommentsAndTags(node).filter(ts.isJSDoc);
const tagsOf = (node) => jsDocs(node).flatMap((doc) => [...(doc.tags ?? [])]);
const hasTag = (node, ...names) => tagsOf(node).some((t) => names.includes(t.tagName.text));
const hasDescription = (node) => jsDocs(node).some((doc) => ts.getTextOfJSDocComment(doc.comment)?.trim());

function unwrap(expr) {
  while (
    expr &&
    (ts.isParenthesizedExpression(expr) ||
      ts.isAsExpression(expr) ||
      ts.isSatisfiesExpression(expr) ||
      ts.isTypeAssertionExpression(expr))
  ) {
    expr = expr.expression;
  }
  return expr;
}

const isFunctionValue = (decl) =>
  ts.isVariableDeclaration(decl) &&
  decl.initializer !== undefined &&
  (ts.isArrowFunction(unwrap(decl.initializer)) || ts.isFunctionExpression(unwrap(decl.initializer)));

const isPublicMethod = (member) =>
  ts.isMethodDeclaration(member) &&
  !ts.isPrivateIdentifier(member.name) &&
  !(ts.getCombinedModifierFlags(member) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected));

function checkPackage(dir, pkg) {
  const entries = entryPoints(dir, pkg);
  if (entries.length === 0) return [];
  const options = compilerOptions(dir);
  const program = ts.createProgram({
    rootNames: entries.map((e) => e.file),
    options,
    host: createHost(options),
  });
  const checker = program.getTypeChecker();
  const srcRoot = dir + sep;
  const inPackage = (node) => {
    const f = node.getSourceFile().fileName;
    return resolve(f).startsWith(srcRoot) && !f.includes(`${sep}node_modules${sep}`) && !f.endsWith('.d.ts');
  };
  const problems = new Map(); // "file:pos:problem" -> problem, so a declaration reached twice is reported once
  const report = (node, symbol, problem) => {
    const sf = node.getSourceFile();
    const pos = ts.getNameOfDeclaration(node) ?? node;
    const { line } = sf.getLineAndCharacterOfPosition(pos.getStart(sf));
    const file = relative(dir, sf.fileName).split(sep).join('/');
    const key = `${file}:${pos.getStart(sf)}:${problem}`;
    if (!problems.has(key)) problems.set(key, { file, line: line + 1, symbol, problem });
  };

  const checkOptionsType = (exportedName, decl) => {
    const type = checker.getDeclaredTypeOfSymbol(checker.getSymbolAtLocation(decl.name));
    const parts = type.isUnion() ? type.types : [type];
    for (const part of parts) {
      for (const prop of checker.getPropertiesOfType(part)) {
        for (const pd of prop.declarations ?? []) {
          if (
            !inPackage(pd) ||
            !(ts.isPropertySignature(pd) || ts.isMethodSignature(pd) || ts.isPropertyDeclaration(pd))
          )
            continue;
          if (hasTag(pd, 'internal')) continue;
          const label = `${exportedName}.${prop.name}`;
          if (!hasDescription(pd)) report(pd, label, 'option without a JSDoc description');
          const optional = pd.questionToken !== undefined || (prop.flags & ts.SymbolFlags.Optional) !== 0;
          if (optional && !hasTag(pd, 'default', 'defaultValue'))
            report(pd, label, 'optional option without @default');
        }
      }
    }
  };

  for (const entry of entries) {
    const sf = program.getSourceFile(entry.file);
    const moduleSymbol = sf && checker.getSymbolAtLocation(sf);
    if (!moduleSymbol) continue;
    for (const exported of checker.getExportsOfModule(moduleSymbol)) {
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      const name = exported.name;
      const decls = (symbol.declarations ?? []).filter(inPackage);
      if (decls.length === 0 || decls.some((d) => hasTag(d, 'internal'))) continue;

      const functions = decls.filter((d) => ts.isFunctionDeclaration(d) || isFunctionValue(d));
      if (functions.length > 0 && !functions.some((d) => hasTag(d, 'example'))) {
        report(functions[0], name, 'function without @example');
      }

      for (const decl of decls) {
        if (
          (ts.isInterfaceDeclaration(decl) || ts.isTypeAliasDeclaration(decl)) &&
          (name.endsWith('Options') || decl.name.text.endsWith('Options'))
        ) {
          checkOptionsType(name, decl);
        }
        if (flags.has('--methods') && ts.isClassDeclaration(decl)) {
          const seen = new Set();
          for (const member of decl.members) {
            if (!isPublicMethod(member) || hasTag(member, 'internal')) continue;
            const methodName = member.name.getText();
            if (seen.has(methodName)) continue; // overloads: judged together below
            seen.add(methodName);
            const overloads = decl.members.filter(
              (m) => isPublicMethod(m) && m.name.getText() === methodName,
            );
            if (!overloads.some((m) => hasTag(m, 'example'))) {
              report(member, `${name}.${methodName}`, 'public method without @example');
            }
          }
        }
      }
    }
  }
  return [...problems.values()].sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
}

const packages = readdirSync(join(root, 'packages'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(root, 'packages', d.name, 'package.json')))
  .map((d) => ({ dir: join(root, 'packages', d.name), short: d.name }))
  .map((p) => ({ ...p, pkg: JSON.parse(readFileSync(join(p.dir, 'package.json'), 'utf8')) }))
  .filter(({ pkg }) => !pkg.private)
  .filter(({ short, pkg }) => only.length === 0 || only.includes(short) || only.includes(pkg.name));

for (const name of only) {
  if (!packages.some((p) => p.short === name || p.pkg.name === name)) {
    console.error(`no publishable package "${name}" under packages/`);
    process.exit(2);
  }
}

let total = 0;
const counts = [];
for (const { dir, pkg } of packages) {
  const problems = checkPackage(dir, pkg);
  for (const p of problems) console.log(`${pkg.name}: ${p.file}:${p.line} ${p.symbol} — ${p.problem}`);
  counts.push(`${pkg.name} ${problems.length}`);
  total += problems.length;
}
console.log(
  `\n${total} API doc problem${total === 1 ? '' : 's'} in ${packages.length} packages (${counts.join(', ')})`,
);
if (process.exitCode === 2) process.exit(2);
process.exit(total > 0 && !flags.has('--report') ? 1 : 0);
