import { describe, expect, it } from 'vitest';
import { runPermissionStoreContract } from '../testing.js';
import { memoryPermissionStore } from './memory.js';

runPermissionStoreContract(
  { describe, it, expect },
  { name: 'memory', create: () => ({ store: memoryPermissionStore() }) },
);
