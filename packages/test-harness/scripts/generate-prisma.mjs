#!/usr/bin/env node
// Builds the Prisma clients the tests use. Every package's prisma/schema.prisma (the models a user pastes into
// their own schema) is combined into generated/schema.prisma, and `prisma generate` writes the client to
// generated/client. The engine workaround is explained in scripts/prisma-generate.mjs.
//
// The same models, rewritten per database by @app/prisma-schema (scripts/prisma-dialects.mjs), give
// generated/mysql/client and generated/sqlite/client, and generated/<provider>/migrations/<pkg>.sql: the DDL
// of each package's models for that database, which requireMariaDb/requireSqlite apply.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { schemaSql, writeDialectSchema } from '../../../scripts/prisma-dialects.mjs';
import { prismaGenerate, writeCombinedSchema } from '../../../scripts/prisma-generate.mjs';

const harness = join(dirname(fileURLToPath(import.meta.url)), '..');
const packagesDir = join(harness, '..');
const out = join(harness, 'generated');
mkdirSync(out, { recursive: true });

const parts = readdirSync(packagesDir)
  .sort()
  .map((pkg) => ({
    pkg,
    label: `packages/${pkg}/prisma/schema.prisma`,
    file: join(packagesDir, pkg, 'prisma', 'schema.prisma'),
  }))
  .filter(({ file }) => existsSync(file));

// The harness's own smoke-test model: keeps the client (and the smoke test) working whatever packages ship.
const extra = `model HarnessSmoke {
  id    Int    @id @default(autoincrement())
  label String

  @@map("harness_smoke")
}
`;

const schemaPath = join(out, 'schema.prisma');
writeCombinedSchema(schemaPath, {
  generatedBy: 'packages/test-harness/scripts/generate-prisma.mjs from packages/*/prisma/schema.prisma',
  parts,
  extra,
});
prismaGenerate(schemaPath, { packageDir: harness });

for (const provider of ['mysql', 'sqlite']) {
  const dir = join(out, provider);
  mkdirSync(join(dir, 'migrations'), { recursive: true });
  const path = join(dir, 'schema.prisma');
  writeDialectSchema(path, {
    provider,
    generatedBy: 'packages/test-harness/scripts/generate-prisma.mjs from packages/*/prisma/schema.prisma',
    parts,
    extra,
  });
  for (const { pkg, file } of parts) {
    writeFileSync(
      join(dir, 'migrations', `${pkg}.sql`),
      `-- Generated from packages/${pkg}/prisma/schema.prisma for ${provider} by @app/prisma-schema.\n${schemaSql(readFileSync(file, 'utf8'), provider)}`,
    );
  }
  writeFileSync(join(dir, 'migrations', 'harness.sql'), schemaSql(extra, provider));
  prismaGenerate(path, { packageDir: harness });
}
