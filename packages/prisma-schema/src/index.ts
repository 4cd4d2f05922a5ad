export type { PrismaProvider } from './dialect.js';
export { PRISMA_PROVIDERS, schemaForProvider, transformSchema } from './dialect.js';
export type { GenerateSchemaOptions, GenerateSchemaResult } from './generate.js';
export {
  blockMarkers,
  datasourceProvider,
  findPackageSchema,
  generateSchema,
  upsertBlock,
} from './generate.js';
export type { PrismaAttribute, PrismaField, PrismaModel, PrismaSchema } from './parse.js';
export { parseSchema, renderModel, renderSchema, SCALAR_TYPES } from './parse.js';
export { schemaSql, splitSql } from './sql.js';
