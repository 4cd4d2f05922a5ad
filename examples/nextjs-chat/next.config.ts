import type { NextConfig } from 'next';

const config: NextConfig = {
  // Drivers stay out of the bundle: they are loaded by Node at runtime, only when configured.
  serverExternalPackages: [
    'ioredis',
    'pg',
    '@prisma/client',
    '@prisma/adapter-pg',
    'better-sqlite3',
    '@prisma/adapter-better-sqlite3',
  ],
  typedRoutes: false,
};

export default config;
