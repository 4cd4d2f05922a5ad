import { describe, expect, it } from 'vitest';
import { prismaProvider, sniffPrismaProvider } from './prisma-provider.js';

const fail = (named: string | undefined) => new Error(`unknown: ${String(named)}`);

describe('prismaProvider', () => {
  it('prefers the explicit provider, then the client, then its engine config, then its driver adapter', () => {
    expect(prismaProvider({ _activeProvider: 'sqlite' }, 'mysql', fail)).toBe('mysql');
    expect(prismaProvider({ _activeProvider: 'sqlite' }, undefined, fail)).toBe('sqlite');
    expect(prismaProvider({ _engineConfig: { activeProvider: 'postgresql' } }, undefined, fail)).toBe(
      'postgresql',
    );
    expect(prismaProvider({ _engineConfig: { adapter: { provider: 'mysql' } } }, undefined, fail)).toBe(
      'mysql',
    );
  });

  it("normalises Prisma's aliases", () => {
    expect(prismaProvider(null, 'postgres', fail)).toBe('postgresql');
    expect(prismaProvider(null, 'cockroachdb', fail)).toBe('postgresql');
    expect(prismaProvider(null, 'mariadb', fail)).toBe('mysql');
  });

  it('throws what fail returns, with the unsupported name or undefined', () => {
    expect(() => prismaProvider({}, undefined, fail)).toThrow('unknown: undefined');
    expect(() => prismaProvider(null, 'mongodb', fail)).toThrow('unknown: mongodb');
    expect(() => prismaProvider(null, 'toString', fail)).toThrow('unknown: toString');
    expect(sniffPrismaProvider('postgresql')).toBeUndefined();
  });
});
