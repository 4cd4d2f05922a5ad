// A small parser and printer for the part of the Prisma schema language that model fragments use: models
// with scalar and relation fields, field attributes (`@id`, `@unique`, `@default(...)`, `@map(...)`,
// `@updatedAt`, `@relation(...)`, `@db.*`) and block attributes (`@@id`, `@@unique`, `@@index`, `@@map`).
// Other top-level blocks (enum, view, type) are kept verbatim; generator and datasource blocks are dropped.

/** One attribute: `@default(now())` is `{ name: 'default', args: 'now()' }`; `@db.Text` has no args. */
export interface PrismaAttribute {
  /** The name without `@`/`@@`, e.g. `id`, `db.Timestamptz`, `index`. */
  name: string;
  /** The text between the parentheses, or undefined when there are none. */
  args?: string;
}

/** One field of a model. */
export interface PrismaField {
  /** The field name. */
  name: string;
  /** The type name (`String`, `DateTime`, another model...). */
  type: string;
  /** `Type[]`. */
  list: boolean;
  /** `Type?`. */
  optional: boolean;
  /** The field attributes, in order. */
  attributes: PrismaAttribute[];
  /** The `///` documentation lines above the field, without the slashes. */
  docs: string[];
}

/** One model. */
export interface PrismaModel {
  /** The model name. */
  name: string;
  /** The fields, in order. */
  fields: PrismaField[];
  /** The block attributes (`@@id`, `@@index`...), in order. */
  attributes: PrismaAttribute[];
  /** The `///` documentation lines above the model. */
  docs: string[];
}

/** A parsed schema: its models, and the other blocks (enums...) verbatim. */
export interface PrismaSchema {
  /** The models, in order. */
  models: PrismaModel[];
  /** Enum, view and type blocks, verbatim. */
  otherBlocks: string[];
}

/** The scalar types of the Prisma schema language. */
export const SCALAR_TYPES = new Set([
  'String',
  'Boolean',
  'Int',
  'BigInt',
  'Float',
  'Decimal',
  'DateTime',
  'Json',
  'Bytes',
]);

/** Drops a `//` comment that is not inside a string. */
function stripComment(line: string): string {
  let inString = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '\\' && inString) i++;
    else if (c === '"') inString = !inString;
    else if (!inString && c === '/' && line[i + 1] === '/') return line.slice(0, i);
  }
  return line;
}

/** Parses `@a @b.c(1) @d("x", e: [f])` (or with `@@`) into attributes. */
export function parseAttributes(text: string): PrismaAttribute[] {
  const out: PrismaAttribute[] = [];
  let i = 0;
  while (i < text.length) {
    if (text[i] !== '@') {
      if (/\s/.test(text[i] ?? '')) {
        i++;
        continue;
      }
      throw new Error(`[prisma-schema] cannot parse attributes: ${text}`);
    }
    while (text[i] === '@') i++;
    const m = /^[\w.]+/.exec(text.slice(i));
    if (!m) throw new Error(`[prisma-schema] cannot parse attributes: ${text}`);
    const attr: PrismaAttribute = { name: m[0] };
    i += m[0].length;
    if (text[i] === '(') {
      let depth = 0;
      let inString = false;
      const start = i + 1;
      for (; i < text.length; i++) {
        const c = text[i];
        if (inString) {
          if (c === '\\') i++;
          else if (c === '"') inString = false;
        } else if (c === '"') inString = true;
        else if (c === '(') depth++;
        else if (c === ')' && --depth === 0) break;
      }
      attr.args = text.slice(start, i);
      i++;
    }
    out.push(attr);
  }
  return out;
}

/**
 * Parses the models of a schema (or of a fragment holding only models).
 *
 * @example
 * ```ts
 * const { models } = parseSchema(readFileSync('prisma/schema.prisma', 'utf8'));
 * ```
 */
export function parseSchema(text: string): PrismaSchema {
  const models: PrismaModel[] = [];
  const otherBlocks: string[] = [];
  const lines = text.split(/\r?\n/);
  let docs: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    if (line.startsWith('///')) {
      docs.push(line.slice(3).replace(/^ /, ''));
      continue;
    }
    const head = /^(model|enum|view|type|generator|datasource)\s+(\w+)\s*\{/.exec(line);
    if (!head) {
      if (line && !line.startsWith('//')) throw new Error(`[prisma-schema] unexpected line: ${line}`);
      if (!line) docs = [];
      continue;
    }
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && (lines[j] ?? '').trim() !== '}'; j++) body.push(lines[j] ?? '');
    if (j >= lines.length) throw new Error(`[prisma-schema] block ${head[2]} is not closed`);
    const kind = head[1];
    if (kind === 'model') models.push(parseModel(head[2] ?? '', body, docs));
    else if (kind !== 'generator' && kind !== 'datasource') {
      otherBlocks.push([...docs.map((d) => `/// ${d}`), ...lines.slice(i, j + 1)].join('\n'));
    }
    docs = [];
    i = j;
  }
  return { models, otherBlocks };
}

function parseModel(name: string, body: string[], docs: string[]): PrismaModel {
  const model: PrismaModel = { name, fields: [], attributes: [], docs };
  let fieldDocs: string[] = [];
  for (const raw of body) {
    const trimmed = raw.trim();
    if (trimmed.startsWith('///')) {
      fieldDocs.push(trimmed.slice(3).replace(/^ /, ''));
      continue;
    }
    const line = stripComment(trimmed).trim();
    if (!line) continue;
    if (line.startsWith('@@')) {
      model.attributes.push(...parseAttributes(line));
      continue;
    }
    const m = /^(\w+)\s+(\w+)(\[\]|\?)?\s*(.*)$/.exec(line);
    if (!m) throw new Error(`[prisma-schema] cannot parse a field of ${name}: ${line}`);
    model.fields.push({
      name: m[1] ?? '',
      type: m[2] ?? '',
      list: m[3] === '[]',
      optional: m[3] === '?',
      attributes: parseAttributes(m[4] ?? ''),
      docs: fieldDocs,
    });
    fieldDocs = [];
  }
  return model;
}

const renderAttribute = (prefix: string, a: PrismaAttribute): string =>
  `${prefix}${a.name}${a.args === undefined ? '' : `(${a.args})`}`;

/**
 * Prints one model, fields aligned the way `prisma format` aligns them.
 *
 * @example
 * ```ts
 * const text = renderModel(parseSchema(fragment).models[0]);
 * ```
 */
export function renderModel(model: PrismaModel): string {
  const rows = model.fields.map((f) => [
    f.name,
    `${f.type}${f.list ? '[]' : f.optional ? '?' : ''}`,
    f.attributes.map((a) => renderAttribute('@', a)).join(' '),
  ]);
  const w0 = Math.max(0, ...rows.map((r) => (r[0] ?? '').length));
  const w1 = Math.max(0, ...rows.map((r) => (r[1] ?? '').length));
  const out = [...model.docs.map((d) => `/// ${d}`), `model ${model.name} {`];
  model.fields.forEach((f, k) => {
    const [n = '', t = '', a = ''] = rows[k] ?? [];
    for (const d of f.docs) out.push(`  /// ${d}`);
    out.push(`  ${n.padEnd(w0)} ${a ? `${t.padEnd(w1)} ${a}` : t}`.trimEnd());
  });
  if (model.attributes.length > 0) {
    out.push('');
    for (const a of model.attributes) out.push(`  ${renderAttribute('@@', a)}`);
  }
  out.push('}');
  return out.join('\n');
}

/**
 * Prints the models and other blocks of a schema (no generator or datasource).
 *
 * @example
 * ```ts
 * const modelsOnly = renderSchema(parseSchema(fullSchema));
 * ```
 */
export function renderSchema(schema: PrismaSchema): string {
  return `${[...schema.otherBlocks, ...schema.models.map(renderModel)].join('\n\n')}\n`;
}

/** The value of `@map("x")`/`@@map("x")`, or undefined. */
export function mappedName(attributes: PrismaAttribute[]): string | undefined {
  const map = attributes.find((a) => a.name === 'map');
  const m = map?.args ? /^\s*(?:name:\s*)?"([^"]*)"/.exec(map.args) : null;
  return m?.[1];
}

/** The field names of `[a, b(length: 10)]` or `fields: [a, b]` in attribute args. */
export function fieldList(args: string | undefined, key = 'fields'): string[] {
  if (!args) return [];
  const named = new RegExp(`${key}:\\s*\\[([^\\]]*)\\]`).exec(args);
  const list = named ?? (key === 'fields' ? /^\s*\[([^\]]*)\]/.exec(args) : null);
  if (!list) return [];
  return (list[1] ?? '')
    .split(',')
    .map((s) => s.trim().replace(/\(.*$/, '').trim())
    .filter(Boolean);
}
