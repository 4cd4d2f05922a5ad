import { packageBuild } from '../../tsup.package';

export default packageBuild({
  index: 'src/index.ts',
  express: 'src/adapters/express.ts',
  fastify: 'src/adapters/fastify.ts',
  hono: 'src/adapters/hono.ts',
  next: 'src/adapters/next.ts',
  nestjs: 'src/adapters/nestjs.ts',
});
