import { packageBuild } from '../../tsup.package';

// `shims`: the telemetry probe's `createRequire(import.meta.url)` gets the file's URL in the CJS build too.
export default packageBuild(
  {
    index: 'src/index.ts',
    testing: 'src/testing.ts',
  },
  { shims: true },
);
