// Runs the dialect suite (dialects.suite.ts) beside dialects.test.ts: both files write the same
// primary keys at the same time, and each must see exactly its own row, in its own database.
import { dialectSuites } from './dialects.suite.js';

await dialectSuites();
