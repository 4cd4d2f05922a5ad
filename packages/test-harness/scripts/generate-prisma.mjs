#!/usr/bin/env node
// Builds the Prisma client the tests use. Every package's prisma/schema.prisma (the models a user pastes into
// their own schema) is combined into generated/schema.prisma, and `prisma generate` writes the client to
// generated/client. The engine workaround is explained in scripts/prisma-generate.mjs.
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prismaGenerate, writeCombinedSchema } from '../../../scripts/prisma-generate.mjs';

const harness = join(dirname(fileURLToPath(import.meta.url)), '..');
const packagesDir = join(harness, '..');
const out = join(harness, 'generated');
mkdirSync(out, { recursive: true });

const parts = readdirSync(packagesDir)
  .sort()
  .map((pkg) => ({
    label: `packages/${pkg}/prisma/schema.prisma`,
    file: join(packagesDir, pkg, 'prisma', 'schema.prisma'),
  }))
  .filter(({ file }) => existsSync(file));

const schemaPath = join(out, 'schema.prisma');
writeCombinedSchema(schemaPath, {
  generatedBy: 'packages/test-harness/scripts/generate-prisma.mjs from packages/*/prisma/schema.prisma',
  parts,
  // The harness's own smoke-test model: keeps the client (and the smoke test) working whatever packages ship.
  extra: `model HarnessSmoke {
  id    Int    @id @default(autoincrement())
  label String

  @@map("harness_smoke")
}
`,
});
prismaGenerate(schemaPath, { packageDir: harness });
