#!/usr/bin/env node
// The consumer check: packs every publishable package, installs the tarballs with npm into a fresh temporary
// project (as a user would), and imports every entry point of every package from ESM, from CommonJS, and from
// TypeScript with moduleResolution node16 and bundler.
//   node scripts/consumer-check.mjs            (after pnpm build)
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const run = (cmd, args, cwd) => {
  try {
    return execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  } catch (error) {
    // Show what the command said (tsc prints its errors on stdout), not a dump of buffers.
    console.error(`${cmd} ${args.join(' ')} failed:\n${error.stdout ?? ''}${error.stderr ?? ''}`);
    process.exit(1);
  }
};

const packages = readdirSync(join(root, 'packages'))
  .map((dir) => ({
    dir: join(root, 'packages', dir),
    pkg: JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')),
  }))
  .filter(({ pkg }) => !pkg.private);

const work = mkdtempSync(join(tmpdir(), 'app-consumer-'));
const tarballs = join(work, 'tarballs');
mkdirSync(tarballs);
try {
  for (const { dir } of packages) run('pnpm', ['pack', '--pack-destination', tarballs], dir);
  const project = join(work, 'project');
  mkdirSync(project);
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
  );
  const files = readdirSync(tarballs).map((f) => join(tarballs, f));
  // A user installs a subpath's optional peer (driver, SDK, framework) when they use that subpath; install
  // them all, at the ranges the packages declare, so every entry point can load.
  const peers = new Map();
  for (const { pkg } of packages) {
    for (const [name, range] of Object.entries(pkg.peerDependencies ?? {})) {
      if (!name.startsWith('@app/')) peers.set(name, range);
    }
  }
  const peerSpecs = [...peers].map(([name, range]) => `${name}@${range}`);
  run(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--ignore-scripts',
      ...files,
      ...peerSpecs,
      'typescript@~6.0.3',
      '@types/node@^20',
    ],
    project,
  );

  // A TypeScript user of a subpath has its peer's types too: where a peer ships none (express), add @types/.
  const missingTypes = [...peers.keys()].filter((name) => {
    const dir = join(project, 'node_modules', name);
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    return !manifest.types && !manifest.typings && !existsSync(join(dir, 'index.d.ts'));
  });
  if (missingTypes.length > 0) {
    const typePackages = missingTypes.map((name) => `@types/${name.replace(/^@/, '').replace('/', '__')}`);
    run('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', ...typePackages], project);
  }

  const specifiers = [];
  for (const { pkg } of packages) {
    for (const sub of Object.keys(pkg.exports)) {
      if (sub.endsWith('package.json')) continue;
      specifiers.push(sub === '.' ? pkg.name : `${pkg.name}/${sub.slice(2)}`);
    }
  }

  const esm = specifiers
    .map(
      (s, i) =>
        `import * as m${i} from '${s}';\nif (!Object.keys(m${i}).length) throw new Error('${s}: no exports');`,
    )
    .join('\n');
  writeFileSync(
    join(project, 'esm.mjs'),
    `${esm}\nconsole.log('ESM ok: ${specifiers.length} entry points');\n`,
  );
  const cjs = specifiers
    .map((s) => `if (!Object.keys(require('${s}')).length) throw new Error('${s}: no exports');`)
    .join('\n');
  writeFileSync(
    join(project, 'cjs.cjs'),
    `${cjs}\nconsole.log('CommonJS ok: ${specifiers.length} entry points');\n`,
  );
  process.stdout.write(run('node', ['esm.mjs'], project));
  process.stdout.write(run('node', ['cjs.cjs'], project));

  const ts = specifiers.map((s, i) => `import * as m${i} from '${s}';\nvoid m${i};`).join('\n');
  writeFileSync(join(project, 'check.ts'), `${ts}\nexport {};\n`);
  for (const [module, moduleResolution] of [
    ['node16', 'node16'],
    ['esnext', 'bundler'],
  ]) {
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module,
          moduleResolution,
          target: 'es2022',
          strict: true,
          noEmit: true,
          types: ['node'],
          skipLibCheck: false,
        },
        files: ['check.ts'],
      }),
    );
    run(join(project, 'node_modules', '.bin', 'tsc'), ['-p', '.'], project);
    console.log(`typescript ${moduleResolution} ok`, specifiers.length);
  }
  console.log(`consumer check passed: ${packages.length} packages, ${specifiers.length} entry points`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
