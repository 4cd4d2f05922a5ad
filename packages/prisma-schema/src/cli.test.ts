import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from './cli.js';
import { blockMarkers, generateSchema } from './generate.js';

const repoPackages = join(import.meta.dirname, '..', '..');
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A temp project with @app/otp, @app/config and @app/permissions "installed" (their prisma/ folders). */
function project(schema?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'app-prisma-'));
  dirs.push(dir);
  for (const pkg of ['otp', 'config', 'permissions']) {
    const target = join(dir, 'node_modules', '@app', pkg);
    mkdirSync(target, { recursive: true });
    cpSync(join(repoPackages, pkg, 'prisma'), join(target, 'prisma'), { recursive: true });
    writeFileSync(join(target, 'package.json'), JSON.stringify({ name: `@app/${pkg}` }));
  }
  if (schema !== undefined) {
    mkdirSync(join(dir, 'prisma'));
    writeFileSync(join(dir, 'prisma', 'schema.prisma'), schema);
  }
  return dir;
}

const run = (args: string[], cwd: string) => {
  const out: string[] = [];
  const err: string[] = [];
  const code = runCli(args, { cwd, out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
};

const userSchema = `generator client {
  provider = "prisma-client"
  output   = "../generated/prisma"
}

datasource db {
  provider = "mysql"
}

model User {
  id    Int    @id @default(autoincrement())
  email String @unique
}
`;

describe('app-prisma generate', () => {
  it('writes each package block for the datasource provider and keeps the user models', () => {
    const dir = project(userSchema);
    const result = run(['generate', 'otp', 'config'], dir);
    expect(result.code, result.err).toBe(0);
    expect(result.out).toContain('added');
    const text = readFileSync(join(dir, 'prisma', 'schema.prisma'), 'utf8');
    expect(text.startsWith(userSchema.trimEnd())).toBe(true);
    expect(text).toContain(blockMarkers('otp').begin);
    expect(text).toContain(blockMarkers('@app/config').end);
    expect(text).toContain('model OtpChallenge {');
    expect(text).toContain('model ConfigEntry {');
    // Rewritten for MySQL: no PostgreSQL native types, no scalar list.
    expect(text).not.toContain('Timestamptz');
    expect(text).toContain('@db.DateTime(3)');
    expect(text).not.toMatch(/^\s*\w+\s+DateTime\[\]/m);
    expect(text).toMatch(/hits\s+Json/);
  });

  it('is idempotent: a second run changes nothing, and a changed block is replaced in place', () => {
    const dir = project(userSchema);
    expect(run(['generate', 'otp', 'config'], dir).code).toBe(0);
    const file = join(dir, 'prisma', 'schema.prisma');
    const first = readFileSync(file, 'utf8');
    const again = run(['generate', 'otp', 'config'], dir);
    expect(again.out).toMatch(/unchanged\s+@app\/otp/);
    expect(readFileSync(file, 'utf8')).toBe(first);

    // An edited block (an older version of the models) is replaced, the rest stays where it was.
    writeFileSync(file, first.replace('model OtpChallenge {', 'model OtpChallenge {\n  stale String'));
    const third = run(['generate', 'otp', 'config'], dir);
    expect(third.out).toMatch(/updated\s+@app\/otp/);
    expect(readFileSync(file, 'utf8')).toBe(first);
  });

  it('creates the schema with the given provider when there is none', () => {
    const dir = project();
    const result = generateSchema({ packages: ['permissions'], provider: 'sqlite', cwd: dir });
    expect(result.packages).toEqual([{ name: '@app/permissions', action: 'added' }]);
    const text = readFileSync(join(dir, 'prisma', 'schema.prisma'), 'utf8');
    expect(text).toContain('provider = "sqlite"');
    expect(text).toContain('model PermissionAssignment {');
    expect(text).not.toContain('@db.');
  });

  it('refuses a provider that contradicts the datasource, unknown packages and unknown providers', () => {
    const dir = project(userSchema);
    expect(run(['generate', '--provider', 'sqlite', 'otp'], dir)).toMatchObject({
      code: 1,
      err: /declares provider "mysql"/,
    });
    expect(run(['generate', 'nope'], dir)).toMatchObject({
      code: 1,
      err: /@app\/nope ships no prisma\/schema.prisma/,
    });
    expect(run(['generate', '--provider=oracle', 'otp'], dir)).toMatchObject({
      code: 2,
      err: /unknown provider/,
    });
    expect(run(['generate'], dir).code).toBe(2);
    const without = project();
    expect(run(['generate', 'otp'], without)).toMatchObject({ code: 1, err: /pass --provider/ });
  });

  it('prints the DDL of a package for mysql and sqlite', () => {
    const dir = project();
    const mysql = run(['sql', '--provider', 'mysql', 'otp'], dir);
    expect(mysql.code, mysql.err).toBe(0);
    expect(mysql.out).toContain('CREATE TABLE `app_otp_challenges`');
    expect(mysql.out).toContain('`expires_at` DATETIME(3) NOT NULL');
    const sqlite = run(['sql', '--provider', 'sqlite', 'otp'], dir);
    expect(sqlite.out).toContain('CREATE TABLE "app_otp_send_windows"');
    expect(run(['sql', '--provider', 'postgresql', 'otp'], dir).code).toBe(2);
  });

  it('runs as the installed bin (dist/bin.js)', () => {
    const dir = project(userSchema.replace('"mysql"', '"postgresql"'));
    const bin = join(import.meta.dirname, '..', 'dist', 'bin.js');
    const out = execFileSync(process.execPath, [bin, 'generate', '--schema', 'prisma/schema.prisma', 'otp'], {
      cwd: dir,
      encoding: 'utf8',
    });
    expect(out).toMatch(/added\s+@app\/otp \(postgresql\)/);
    // PostgreSQL keeps the models as the package writes them.
    expect(readFileSync(join(dir, 'prisma', 'schema.prisma'), 'utf8')).toContain('@db.Timestamptz(3)');
  });
});
