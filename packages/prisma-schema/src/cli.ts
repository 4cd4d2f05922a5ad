import { readFileSync } from 'node:fs';
import { PRISMA_PROVIDERS, type PrismaProvider } from './dialect.js';
import { findPackageSchema, generateSchema } from './generate.js';
import { schemaSql } from './sql.js';

const USAGE = `usage:
  app-prisma generate [--provider postgresql|mysql|sqlite] [--schema prisma/schema.prisma] <package>...
      writes the models of each package (otp, config, @app/events...) into your schema.prisma, rewritten
      for the provider (default: your datasource's); one marked block a package, replaced on the next run
  app-prisma sql --provider mysql|sqlite <package>...
      prints the CREATE TABLE statements of the packages' models (no Prisma schema engine needed)`;

/**
 * Runs the \`app-prisma\` command with \`argv\` (without node and the script). Returns the exit code; writes
 * to \`out\` and \`err\`.
 *
 * @example
 * \`\`\`ts
 * import { runCli } from '@app/prisma-schema/cli';
 * process.exitCode = runCli(['generate', '--provider', 'sqlite', 'otp']);
 * \`\`\`
 */
export function runCli(
  argv: string[],
  io: { cwd?: string; out?: (line: string) => void; err?: (line: string) => void } = {},
): number {
  const out = io.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const err = io.err ?? ((line: string) => process.stderr.write(`${line}\n`));
  const cwd = io.cwd ?? process.cwd();
  const [command, ...rest] = argv;
  const packages: string[] = [];
  let provider: string | undefined;
  let schema: string | undefined;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] ?? '';
    const [flag, inline] = arg.startsWith('--') ? arg.split('=', 2) : [arg, undefined];
    const value = () => inline ?? rest[++i];
    if (flag === '--provider') provider = value();
    else if (flag === '--schema') schema = value();
    else if (flag === '--help' || flag === '-h') {
      out(USAGE);
      return 0;
    } else if (arg.startsWith('-')) {
      err(`unknown option ${arg}\n${USAGE}`);
      return 2;
    } else packages.push(arg);
  }
  if ((command !== 'generate' && command !== 'sql') || packages.length === 0) {
    err(USAGE);
    return 2;
  }
  if (provider !== undefined && !PRISMA_PROVIDERS.includes(provider as PrismaProvider)) {
    err(`unknown provider "${provider}": use ${PRISMA_PROVIDERS.join(', ')}`);
    return 2;
  }
  try {
    if (command === 'sql') {
      if (provider !== 'mysql' && provider !== 'sqlite') {
        err(
          'app-prisma sql needs --provider mysql or --provider sqlite (PostgreSQL: the packages ship migrations/*.sql)',
        );
        return 2;
      }
      for (const pkg of packages) {
        out(`-- ${pkg.startsWith('@') ? pkg : `@app/${pkg}`}`);
        out(schemaSql(readFileSync(findPackageSchema(pkg, cwd), 'utf8'), provider));
      }
      return 0;
    }
    const result = generateSchema({
      packages,
      schema,
      provider: provider as PrismaProvider | undefined,
      cwd,
    });
    for (const p of result.packages)
      out(`${p.action.padEnd(9)} ${p.name} (${result.provider}) in ${result.schema}`);
    return 0;
  } catch (error) {
    err((error as Error).message);
    return 1;
  }
}
