// Test and bench helper: the SQL migrations the package ships, split into statements to apply.
import { readFileSync } from 'node:fs';

/** The statements of a shipped migration file. */
export function migrationStatements(path: string): string[] {
  return readFileSync(new URL(path, import.meta.url), 'utf8')
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.replace(/^\s*--.*$/gm, '').trim())
    .filter(Boolean);
}
