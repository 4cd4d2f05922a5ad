import { packageBuild } from '../../tsup.package';

export default packageBuild({
  index: 'src/index.ts',
  openfeature: 'src/openfeature.ts',
  testing: 'src/testing.ts',
});
