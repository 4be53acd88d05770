import type { LedgersyncApp } from '../types.js';
import { credentialVault } from './contract.js';

/** BlockProof: institutions issue academic credentials on chain; anyone verifies them. */
export const credentialsApp: LedgersyncApp = {
  name: 'credentials',
  contracts: [credentialVault],
};
