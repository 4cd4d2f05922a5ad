import { packageBuild } from '../../tsup.package';

export default packageBuild({ index: 'src/index.ts', cli: 'src/cli.ts', bin: 'src/bin.ts' });
