// Inversify's published scenarios (cached singleton, transient with one dependency, transient tree with two
// dependencies per node), run for @app/di, raw tsyringe, InversifyJS 8 and Awilix in one process.
// Run: pnpm --filter @app/di bench
//
// tsx transpiles with esbuild, which does not emit decorator metadata: every constructor parameter is named
// with @inject(...) so the same classes work for tsyringe and @app/di without `design:paramtypes`.

import { asClass, createContainer as createAwilix, InjectionMode } from 'awilix';
import {
  Container as InversifyContainer,
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
};

// The machine is shared: run several rounds, rotating which library goes first, and keep the median.
const ROUNDS = 3;
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
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const opsPerSec = new Map([...samples].map(([name, xs]) => [name, median(xs)]));

const fmt = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : `${(n / 1e3).toFixed(0)} k`);
const lines = ['| scenario | library | resolves/s | @app/di ÷ library |', '|---|---|---:|---:|'];
for (const [scenario, runners] of Object.entries(scenarios)) {
  const ours = opsPerSec.get(`${scenario} | @app/di`)!;
  for (const lib of Object.keys(runners)) {
    const ops = opsPerSec.get(`${scenario} | ${lib}`)!;
    lines.push(`| ${scenario} | ${lib} | ${fmt(ops)} | ${(ours / ops).toFixed(2)} |`);
  }
}
console.log(
  `Node ${process.version}, ${BATCH} resolves per measured call, median of ${ROUNDS} rounds; ratio > 1 means @app/di is faster\n`,
);
console.log(lines.join('\n'));
