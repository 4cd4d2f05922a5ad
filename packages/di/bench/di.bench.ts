// Inversify's published scenarios (cached singleton, transient with one dependency, transient trees with two
// dependencies per node: 15 nodes from 4 classes, 255 nodes from 8 classes, 255 nodes from 255 classes), run
// for @app/di, raw tsyringe, InversifyJS 8 and Awilix in one process.
// Run: pnpm --filter @app/di bench   (DI_BENCH_ROUNDS=n for more or fewer rounds; default 5)
// Prints a Markdown table and writes bench/bench-results.json (medians and per-round ratio spreads).
//
// tsx transpiles with esbuild, which does not emit decorator metadata: every constructor parameter is named
// with @inject(...) so the same classes work for tsyringe and @app/di without `design:paramtypes`.

import { writeFileSync } from 'node:fs';
import { asClass, createContainer as createAwilix, InjectionMode } from 'awilix';
import {
  Container as InversifyContainer,
  decorate as inversifyDecorate,
  inject as inversifyInject,
  injectable as inversifyInjectable,
} from 'inversify';
import { Bench } from 'tinybench';
import { container as tsyringeRoot } from 'tsyringe';
import { createContainer as createAppContainer, inject, injectable } from '../src/index.js';

const BATCH = 100; // resolves per measured call, so timer overhead does not dominate nanosecond operations

// ---- classes for @app/di and tsyringe (tsyringe decorators) ----
@injectable()
class Single {}
@injectable()
class Leaf {}
@injectable()
class WithDep {
  constructor(@inject(Leaf) readonly leaf: Leaf) {}
}
@injectable()
class L3 {}
@injectable()
class L2 {
  constructor(
    @inject(L3) readonly a: L3,
    @inject(L3) readonly b: L3,
  ) {}
}
@injectable()
class L1 {
  constructor(
    @inject(L2) readonly a: L2,
    @inject(L2) readonly b: L2,
  ) {}
}
@injectable()
class L0 {
  constructor(
    @inject(L1) readonly a: L1,
    @inject(L1) readonly b: L1,
  ) {}
}

// ---- the same shapes for InversifyJS ----
@inversifyInjectable()
class ISingle {}
@inversifyInjectable()
class ILeaf {}
@inversifyInjectable()
class IWithDep {
  constructor(@inversifyInject(ILeaf) readonly leaf: ILeaf) {}
}
@inversifyInjectable()
class IL3 {}
@inversifyInjectable()
class IL2 {
  constructor(
    @inversifyInject(IL3) readonly a: IL3,
    @inversifyInject(IL3) readonly b: IL3,
  ) {}
}
@inversifyInjectable()
class IL1 {
  constructor(
    @inversifyInject(IL2) readonly a: IL2,
    @inversifyInject(IL2) readonly b: IL2,
  ) {}
}
@inversifyInjectable()
class IL0 {
  constructor(
    @inversifyInject(IL1) readonly a: IL1,
    @inversifyInject(IL1) readonly b: IL1,
  ) {}
}

// ---- and for Awilix (PROXY injection mode: dependencies come from the cradle) ----
class ASingle {}
class ALeaf {}
class AWithDep {
  readonly leaf: ALeaf;
  constructor({ leaf }: { leaf: ALeaf }) {
    this.leaf = leaf;
  }
}
class AL3 {}
class AL2 {
  readonly a: AL3;
  readonly b: AL3;
  constructor({ l3 }: { l3: AL3 }) {
    this.a = l3;
    this.b = l3;
  }
}
class AL1 {
  readonly a: AL2;
  readonly b: AL2;
  constructor(cradle: { l2: AL2 }) {
    this.a = cradle.l2;
    this.b = cradle.l2;
  }
}
class AL0 {
  readonly a: AL1;
  readonly b: AL1;
  constructor(cradle: { l1: AL1 }) {
    this.a = cradle.l1;
    this.b = cradle.l1;
  }
}

// ---- containers ----
const app = createAppContainer();
app.register(Single, { useClass: Single, lifetime: 'singleton' });
for (const cls of [Leaf, WithDep, L3, L2, L1, L0]) app.register(cls, { useClass: cls });

const tsy = tsyringeRoot.createChildContainer();
tsy.registerSingleton(Single);
for (const cls of [Leaf, WithDep, L3, L2, L1, L0]) tsy.register(cls, { useClass: cls });

const inv = new InversifyContainer();
inv.bind(ISingle).toSelf().inSingletonScope();
for (const cls of [ILeaf, IWithDep, IL3, IL2, IL1, IL0]) inv.bind(cls).toSelf().inTransientScope();

const awi = createAwilix({ injectionMode: InjectionMode.PROXY });
awi.register({
  single: asClass(ASingle).singleton(),
  leaf: asClass(ALeaf).transient(),
  withDep: asClass(AWithDep).transient(),
  l3: asClass(AL3).transient(),
  l2: asClass(AL2).transient(),
  l1: asClass(AL1).transient(),
  l0: asClass(AL0).transient(),
});

// ---- generated binary trees: node i depends on nodes 2i+1 and 2i+2 (255 nodes, 8 levels) ----
// `classOf(i)` names the class of node i: one class per level (8 classes) or one per node (255 classes).
// Every library gets its own classes of the same shape, decorated programmatically.
const TREE_NODES = 255;
type TreeNode = { a?: TreeNode; b?: TreeNode };
interface GeneratedTree {
  app: () => unknown;
  tsyringe: () => unknown;
  inversify: () => unknown;
  awilix: () => unknown;
}

function generatedTree(label: string, classOf: (node: number) => number): GeneratedTree {
  const classCount = classOf(TREE_NODES - 1) + 1;
  // The children's class of a class (all nodes of one class have children of one class).
  const childOf = new Map<number, number>();
  for (let i = 0; 2 * i + 2 < TREE_NODES; i++) {
    childOf.set(classOf(i) * 2 + 0, classOf(2 * i + 1));
    childOf.set(classOf(i) * 2 + 1, classOf(2 * i + 2));
  }
  const hasChildren = (k: number) => childOf.has(k * 2);
  const leafClass = () => class {};
  const innerClass = () =>
    class {
      constructor(
        readonly a: unknown,
        readonly b: unknown,
      ) {}
    };
  const make = (k: number) => (hasChildren(k) ? innerClass() : leafClass());
  const ours = Array.from({ length: classCount }, (_, k) => make(k));
  const theirs = Array.from({ length: classCount }, (_, k) => make(k));
  const app = createAppContainer();
  const tsyC = tsyringeRoot.createChildContainer();
  const invC = new InversifyContainer();
  const awiC = createAwilix({ injectionMode: InjectionMode.PROXY });
  for (let k = 0; k < classCount; k++) {
    const cls = ours[k]!;
    const icls = theirs[k]!;
    if (hasChildren(k)) {
      inject(ours[childOf.get(k * 2)!]!)(cls, undefined, 0);
      inject(ours[childOf.get(k * 2 + 1)!]!)(cls, undefined, 1);
      inversifyDecorate(inversifyInject(theirs[childOf.get(k * 2)!]!), icls, 0);
      inversifyDecorate(inversifyInject(theirs[childOf.get(k * 2 + 1)!]!), icls, 1);
    }
    injectable()(cls);
    inversifyDecorate(inversifyInjectable(), icls);
    app.register(cls, { useClass: cls });
    tsyC.register(cls, { useClass: cls });
    invC.bind(icls).toSelf().inTransientScope();
    const a = `${label}${childOf.get(k * 2)}`;
    const b = `${label}${childOf.get(k * 2 + 1)}`;
    const acls = hasChildren(k)
      ? class {
          readonly a: unknown;
          readonly b: unknown;
          constructor(cradle: Record<string, unknown>) {
            this.a = cradle[a];
            this.b = cradle[b];
          }
        }
      : class {};
    awiC.register(`${label}${k}`, asClass(acls).transient());
  }
  const root0 = ours[classOf(0)]!;
  const iroot0 = theirs[classOf(0)]!;
  return {
    app: () => app.resolve(root0),
    tsyringe: () => tsyC.resolve(root0),
    inversify: () => invC.get(iroot0),
    awilix: () => awiC.resolve(`${label}${classOf(0)}`),
  };
}

const count = (n: TreeNode | undefined): number => (n === undefined ? 0 : 1 + count(n.a) + count(n.b));
const byLevel = generatedTree('lvl', (i) => Math.floor(Math.log2(i + 1)));
const byNode = generatedTree('node', (i) => i);
for (const tree of [byLevel, byNode]) {
  for (const build of Object.values(tree)) {
    const n = count(build() as TreeNode);
    if (n !== TREE_NODES) throw new Error(`tree has ${n} nodes, not ${TREE_NODES}`);
  }
}

// Sanity: every container builds the same shapes (and the singletons exist before measuring).
const trees = [app.resolve(L0), tsy.resolve(L0), inv.get(IL0), awi.resolve<AL0>('l0')];
for (const t of trees) if (!t.a.a.a || !t.b.b.b) throw new Error('tree not built');
const once = app.resolve(Single);
if (app.resolve(Single) !== once) throw new Error('not a singleton');

type Runner = () => unknown;
const scenarios: Record<string, Record<string, Runner>> = {
  'cached singleton': {
    '@app/di': () => app.resolve(Single),
    tsyringe: () => tsy.resolve(Single),
    inversify: () => inv.get(ISingle),
    awilix: () => awi.resolve('single'),
  },
  'transient, one dependency': {
    '@app/di': () => app.resolve(WithDep),
    tsyringe: () => tsy.resolve(WithDep),
    inversify: () => inv.get(IWithDep),
    awilix: () => awi.resolve('withDep'),
  },
  'transient tree (2 deps/node, 4 levels, 15 instances)': {
    '@app/di': () => app.resolve(L0),
    tsyringe: () => tsy.resolve(L0),
    inversify: () => inv.get(IL0),
    awilix: () => awi.resolve('l0'),
  },
  'transient tree (255 nodes from 8 classes)': {
    '@app/di': byLevel.app,
    tsyringe: byLevel.tsyringe,
    inversify: byLevel.inversify,
    awilix: byLevel.awilix,
  },
  'transient tree (255 nodes from 255 classes)': {
    '@app/di': byNode.app,
    tsyringe: byNode.tsyringe,
    inversify: byNode.inversify,
    awilix: byNode.awilix,
  },
};

// The machine is shared: run several rounds, rotating which library goes first, and keep the median. Each
// round measures every library on a scenario back to back, so a round's ratio compares like with like.
const ROUNDS = Number(process.env.DI_BENCH_ROUNDS ?? 5);
const samples = new Map<string, number[]>();
for (let round = 0; round < ROUNDS; round++) {
  const bench = new Bench({ time: 500, warmupTime: 150 });
  for (const [scenario, runners] of Object.entries(scenarios)) {
    const libs = Object.keys(runners);
    const rotated = [...libs.slice(round % libs.length), ...libs.slice(0, round % libs.length)];
    for (const lib of rotated) {
      const run = runners[lib]!;
      bench.add(`${scenario} | ${lib}`, () => {
        for (let i = 0; i < BATCH; i++) run();
      });
    }
  }
  await bench.run();
  for (const task of bench.tasks) {
    const result = task.result;
    if (result.state !== 'completed') throw new Error(`${task.name}: ${result.state}`);
    const list = samples.get(task.name) ?? [];
    list.push((1000 / result.period) * BATCH);
    samples.set(task.name, list);
  }
}
const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

const fmt = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : `${(n / 1e3).toFixed(0)} k`);
const lines = [
  '| scenario | library | resolves/s (median) | @app/di ÷ library (median) | per-round range |',
  '|---|---|---:|---:|---:|',
];
const results: Array<Record<string, unknown>> = [];
for (const [scenario, runners] of Object.entries(scenarios)) {
  const ours = samples.get(`${scenario} | @app/di`)!;
  for (const lib of Object.keys(runners)) {
    const theirs = samples.get(`${scenario} | ${lib}`)!;
    const ratios = ours.map((x, i) => x / theirs[i]!);
    const ratio = median(ratios);
    const range = `${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}`;
    lines.push(`| ${scenario} | ${lib} | ${fmt(median(theirs))} | ${ratio.toFixed(2)} | ${range} |`);
    results.push({
      scenario,
      library: lib,
      resolvesPerSecond: Math.round(median(theirs)),
      ratio: Number(ratio.toFixed(3)),
      ratioMin: Number(Math.min(...ratios).toFixed(3)),
      ratioMax: Number(Math.max(...ratios).toFixed(3)),
    });
  }
}
const header = `Node ${process.version}, ${BATCH} resolves per measured call, ${ROUNDS} rounds (median; range = lowest and highest per-round ratio); ratio > 1 means @app/di is faster`;
console.log(`${header}\n`);
console.log(lines.join('\n'));
writeFileSync(
  new URL('./bench-results.json', import.meta.url),
  `${JSON.stringify({ package: '@app/di', node: process.version, batch: BATCH, rounds: ROUNDS, at: new Date().toISOString(), results }, null, 2)}\n`,
);
