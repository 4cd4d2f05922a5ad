import { packageBuild } from '../../tsup.package';

export default packageBuild({
  index: 'src/index.ts',
  testing: 'src/testing.ts',
});
