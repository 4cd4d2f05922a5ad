// One fresh process of the publish benchmark (see publish.ts); prints `RESULT <json>`.
import { printResult } from '@app/test-harness';
import { runPublish } from './publish.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const sliceMs = Number(process.env.BENCH_SLICE_MS ?? 600);
const result = await runPublish(url, rounds, sliceMs);
printResult(result);
