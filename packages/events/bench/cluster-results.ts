// The cluster benchmark's part of bench/RESULTS.md: kept between markers, so that events.bench.ts (which
// regenerates the rest of the file) and cluster.bench.ts (which rewrites only this part) do not erase each other.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const START = '<!-- cluster-bench:start -->';
const END = '<!-- cluster-bench:end -->';

/** The cluster section currently in `<dir>/RESULTS.md` (with its markers), or ''. */
export function clusterSection(dir: string): string {
  const path = join(dir, 'RESULTS.md');
  if (!existsSync(path)) return '';
  const text = readFileSync(path, 'utf8');
  const from = text.indexOf(START);
  const to = text.indexOf(END);
  return from === -1 || to === -1 ? '' : `\n${text.slice(from, to + END.length)}\n`;
}

/** Replaces (or appends) the cluster section of `<dir>/RESULTS.md` with `body`. */
export function writeClusterSection(dir: string, body: string): void {
  const path = join(dir, 'RESULTS.md');
  const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
  const section = `${START}\n${body.trim()}\n${END}`;
  const from = text.indexOf(START);
  const to = text.indexOf(END);
  const next =
    from === -1 || to === -1
      ? `${text.trimEnd()}\n\n${section}\n`
      : `${text.slice(0, from)}${section}${text.slice(to + END.length)}`;
  writeFileSync(path, next);
}
