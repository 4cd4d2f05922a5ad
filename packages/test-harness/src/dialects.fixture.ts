// Shared by the dialect smoke tests: writes one row into every model of every package's schema through a
// generated client and reads it back. Values come from the model definitions, so a new model is covered
// without touching the tests.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type PrismaField,
  type PrismaModel,
  type PrismaProvider,
  parseSchema,
  SCALAR_TYPES,
  transformSchema,
} from '@app/prisma-schema';

const packagesDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Every package with prisma/schema.prisma, and its models rewritten for `provider`. */
export function packageModels(provider: PrismaProvider): { pkg: string; models: PrismaModel[] }[] {
  return readdirSync(packagesDir)
    .sort()
    .filter((pkg) => existsSync(join(packagesDir, pkg, 'prisma', 'schema.prisma')))
    .map((pkg) => ({
      pkg,
      models: transformSchema(
        parseSchema(readFileSync(join(packagesDir, pkg, 'prisma', 'schema.prisma'), 'utf8')),
        provider,
      ).models,
    }));
}

const isAuto = (f: PrismaField) =>
  f.attributes.some((a) => a.name === 'default' && a.args === 'autoincrement()');
const when = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678));

function value(model: string, f: PrismaField): unknown {
  switch (f.type) {
    case 'String':
      return `v-${model}-${f.name}`;
    case 'Int':
      return 7;
    case 'BigInt':
      return 9_007_199_254_740_993n; // beyond 2^53: proves no float on the way
    case 'Boolean':
      return true;
    case 'Float':
      return 1.5;
    case 'DateTime':
      return when;
    case 'Json':
      return f.docs.some((d) => d.includes('JSON array'))
        ? [when.toISOString()]
        : { a: [1, 'b', null], n: 1.5 };
    default:
      throw new Error(`no test value for ${model}.${f.name} ${f.type}`);
  }
}

/** The data of one row of `model`: every scalar set (autoincrement ones left to the database). */
export function rowData(model: PrismaModel, all: PrismaModel[]): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  for (const f of model.fields) {
    if (SCALAR_TYPES.has(f.type) && !isAuto(f)) data[f.name] = value(model.name, f);
  }
  // A foreign key takes the value the referenced model's row has.
  for (const f of model.fields) {
    const rel = f.attributes.find((a) => a.name === 'relation');
    const fields = /fields:\s*\[([^\]]*)\]/
      .exec(rel?.args ?? '')?.[1]
      ?.split(',')
      .map((s) => s.trim());
    const refs = /references:\s*\[([^\]]*)\]/
      .exec(rel?.args ?? '')?.[1]
      ?.split(',')
      .map((s) => s.trim());
    const target = all.find((m) => m.name === f.type);
    if (!fields || !refs || !target) continue;
    fields.forEach((name, i) => {
      const ref = target.fields.find((x) => x.name === refs[i]);
      if (ref) data[name] = value(target.name, ref);
    });
  }
  return data;
}

/** Models in an order where each model's relation targets come first. */
export function parentsFirst(models: PrismaModel[]): PrismaModel[] {
  const hasFk = (m: PrismaModel) =>
    m.fields.some((f) => /fields:/.test(f.attributes.find((a) => a.name === 'relation')?.args ?? ''));
  return [...models.filter((m) => !hasFk(m)), ...models.filter(hasFk)];
}

/** The client property of a model: `OtpChallenge` -> `otpChallenge`. */
export const delegateName = (model: string) => model.charAt(0).toLowerCase() + model.slice(1);
