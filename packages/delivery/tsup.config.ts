import { packageBuild } from '../../tsup.package';

export default packageBuild({
  index: 'src/index.ts',
  memory: 'src/adapters/memory.ts',
  redis: 'src/adapters/redis.ts',
  prisma: 'src/adapters/prisma.ts',
  testing: 'src/testing.ts',
});
