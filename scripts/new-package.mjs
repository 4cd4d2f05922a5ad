#!/usr/bin/env node
// Scaffolds packages/<name> with the layout docs/contributing describes:
//   node scripts/new-package.mjs <name> "<description>" [subpath=src/file.ts ...]
// Example: node scripts/new-package.mjs otp "One-time passcodes" memory=src/adapters/memory.ts
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [name, description, ...subpaths] = process.argv.slice(2);
if (!name || !description) {
  console.error('usage: node scripts/new-package.mjs <name> "<description>" [subpath=src/file.ts ...]');
  process.exit(1);
}
const dir = join(import.meta.dirname, '..', 'packages', name);
if (existsSync(dir)) {
  console.error(`packages/${name} exists already`);
  process.exit(1);
}

const entries = { index: 'src/index.ts' };
for (const s of subpaths) {
  const [key, file] = s.split('=');
  entries[key] = file;
}

const exportsMap = {};
for (const key of Object.keys(entries)) {
  const sub = key === 'index' ? '.' : `./${key}`;
  exportsMap[sub] = {
    import: { types: `./dist/${key}.d.ts`, default: `./dist/${key}.js` },
    require: { types: `./dist/${key}.d.cts`, default: `./dist/${key}.cjs` },
  };
}
exportsMap['./package.json'] = './package.json';

const pkg = {
  name: `@app/${name}`,
  version: '0.0.0',
  description,
  license: 'MIT',
  repository: { type: 'git', url: 'git+https://github.com/app-infra/app.git', directory: `packages/${name}` },
  type: 'module',
  sideEffects: false,
  files: ['dist'],
  engines: { node: '>=20.19' },
  main: './dist/index.cjs',
  module: './dist/index.js',
  types: './dist/index.d.cts',
  exports: exportsMap,
  scripts: {
    build: 'tsup',
    test: 'vitest run',
    typecheck: 'tsc --noEmit',
    'lint:package': 'publint --strict && attw --pack . --profile node16',
  },
  publishConfig: { access: 'public' },
};

mkdirSync(join(dir, 'src'), { recursive: true });
writeFileSync(join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
writeFileSync(
  join(dir, 'tsconfig.json'),
  `${JSON.stringify({ extends: '../../tsconfig.base.json', include: ['src', 'bench', '*.config.ts'] }, null, 2)}\n`,
);
writeFileSync(
  join(dir, 'tsup.config.ts'),
  `import { packageBuild } from '../../tsup.package';\n\nexport default packageBuild(${JSON.stringify(entries, null, 2).replace(/"/g, "'")});\n`,
);
writeFileSync(
  join(dir, 'README.md'),
  `# @app/${name}\n\n${description}\n\n\`\`\`sh\nnpm install @app/${name}\n\`\`\`\n`,
);
console.log(`created packages/${name}`);
