import { describe, expect, it } from 'vitest';
import { permissionStoreContract } from '../testing.js';
import { memoryPermissionStore } from './memory.js';

permissionStoreContract({
  describe,
  it,
  expect,
  name: 'memory',
  create: () => memoryPermissionStore(),
});
