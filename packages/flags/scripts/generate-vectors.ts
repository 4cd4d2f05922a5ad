// Regenerates src/vectors/bucketing.json from unleash-client and the `murmurhash` package, NOT from our own
// implementation, so the vectors are an independent reference: `pnpm tsx scripts/generate-vectors.ts`.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import murmurhash from 'murmurhash';

const require = createRequire(import.meta.url);
const unleash = require('unleash-client/lib/strategy/util.js') as {
  normalizedStrategyValue(id: string, groupId: string): number;
  normalizedVariantValue(id: string, groupId: string, normalizer: number): number;
};

const groups = ['new-checkout', 'dark-mode', 'a', 'Feature.With.Dots', 'group:42', ''];
const ids = [
  'user-1',
  'user-2',
  '123',
  '42',
  'alice@example.com',
  '9f1c2d3e-4b5a-6789-abcd-ef0123456789',
  'x',
  'session:abc',
  '',
  'a-much-longer-identifier-that-spans-several-murmur-blocks-0123456789',
];

const ascii = groups.flatMap((groupId) =>
  ids.map((id) => {
    const key = `${groupId}:${id}`;
    return {
      groupId,
      id,
      murmur3: murmurhash.v3(key, 0),
      murmur3VariantSeed: murmurhash.v3(key, 86028157),
      rolloutBucket: unleash.normalizedStrategyValue(id, groupId),
      variantBucket1000: unleash.normalizedVariantValue(id, groupId, 1000),
    };
  }),
);

// Non-ASCII ids: the canonical MurmurHash3 over UTF-8 bytes (the `murmurhash` package, Unleash's Rust engine
// and most ports). unleash-client for Node hashes the low byte of each UTF-16 unit instead, so it differs.
const utf8 = ['José', 'ユーザー', 'naïve-user', '😀'].map((id) => {
  const groupId = 'new-checkout';
  const key = `${groupId}:${id}`;
  return {
    groupId,
    id,
    murmur3: murmurhash.v3(key, 0),
    rolloutBucket: (murmurhash.v3(key, 0) % 100) + 1,
    unleashNodeRolloutBucket: unleash.normalizedStrategyValue(id, groupId),
  };
});

const out = {
  description:
    'Bucketing test vectors for @app/flags: MurmurHash3 x86_32 of groupId + ":" + id (UTF-8); rolloutBucket = hash(seed 0) % 100 + 1; variantBucket1000 = hash(seed 86028157) % 1000 + 1. Generated from unleash-client and murmurhash by scripts/generate-vectors.ts.',
  ascii,
  utf8,
};
writeFileSync(new URL('../src/vectors/bucketing.json', import.meta.url), `${JSON.stringify(out, null, 2)}\n`);
console.log(`wrote ${ascii.length} ascii and ${utf8.length} utf8 vectors`);
