import { packageBuild } from '../../tsup.package';

export default packageBuild({
  index: 'src/index.ts',
  memory: 'src/adapters/memory.ts',
  ses: 'src/adapters/ses.ts',
  sendgrid: 'src/adapters/sendgrid.ts',
  redis: 'src/adapters/redis.ts',
  prisma: 'src/adapters/prisma.ts',
  testing: 'src/testing.ts',
});
