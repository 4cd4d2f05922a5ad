import { packageBuild } from '../../tsup.package';

export default packageBuild({
  index: 'src/index.ts',
  memory: 'src/adapters/memory.ts',
  prisma: 'src/adapters/prisma.ts',
  redis: 'src/adapters/redis.ts',
  testing: 'src/testing.ts',
});
