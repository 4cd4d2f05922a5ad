// A typedoc plugin (typedoc.json `plugin`): the API reference documents exactly the export subpaths of the public
// packages, read from packages/*/package.json at every run (so a new package or subpath needs no change here),
// one module per subpath, named by its import path (`@app/otp/redis`, not `otp/src/adapters/redis`), each root
// module (`@app/otp`) showing its package's README. Test files and fixtures are never entry points.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Application, Converter, MinimalSourceFile, ReflectionKind } from 'typedoc';
import { importPath, isTestSource, publicPackages } from './lib/packages.mjs';

const root = join(import.meta.dirname, '..');

/** @param {Application} app */
export function load(app) {
  /** Source file -> { name: import path, readme?: README of the package for its root subpath }. */
  const modules = new Map();
  for (const { dir, pkg, entries } of publicPackages(root)) {
    for (const { subpath, file } of entries) {
      if (isTestSource(file)) throw new Error(`${pkg.name}: the export ${subpath} is a test file (${file})`);
      const readme = join(dir, 'README.md');
      modules.set(resolve(file), {
        name: importPath(pkg.name, subpath),
        readme: subpath === '.' && existsSync(readme) ? readme : undefined,
      });
    }
  }

  app.on(Application.EVENT_BOOTSTRAP_END, () => {
    const files = [...modules.keys()];
    app.options.setValue('entryPoints', files);
    // The program holds the entry points (and what they import), not every file the tsconfig would include.
    app.options.setCompilerOptions(
      files,
      app.options.getCompilerOptions(),
      app.options.getProjectReferences(),
    );
  });

  app.converter.on(Converter.EVENT_CREATE_DECLARATION, (context, reflection) => {
    if (!reflection.kindOf(ReflectionKind.Module)) return;
    const symbol = context.getSymbolFromReflection(reflection);
    const file = symbol?.declarations?.[0]?.getSourceFile().fileName;
    const module = file ? modules.get(resolve(file)) : undefined;
    if (!module) return;
    reflection.name = module.name;
    if (module.readme) {
      const { content } = context.converter.parseRawComment(
        new MinimalSourceFile(readFileSync(module.readme, 'utf8'), module.readme),
        context.project.files,
      );
      reflection.readme = content;
    }
  });
}
