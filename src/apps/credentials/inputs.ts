import { z } from 'zod';
import { evmAddress, positiveUint256 } from '../../engine/index.js';

/** Credential ids are the vault's uint256 counter. */
export const credentialId = positiveUint256('expected a credential id (a positive integer up to 2^256-1)');
export const address = evmAddress;
export const fingerprint = z
  .string()
  .regex(/^0x[0-9a-fA-F]{64}$/, 'expected a 0x-prefixed 32-byte hex fingerprint')
  .transform((f) => f.toLowerCase());
