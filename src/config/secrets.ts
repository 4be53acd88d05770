import { urlSecrets } from '../runtime/redact.js';
import type { ChainConfig, Config } from './index.js';

/**
 * The secrets a configuration holds: keys, passwords, and the key-bearing parts of
 * the database, RPC and WebSocket URLs; also those of `chains` (a config file's,
 * whose keys and URLs come from the environment under names of its own).
 */
export function configSecrets(config: Config, chains: ChainConfig[] = []): string[] {
  const secrets: string[] = [];
  if (config.database.kind === 'url') secrets.push(...urlSecrets(config.database.url, { userIsSecret: false }));
  for (const chain of [...config.chains, ...chains]) {
    if (chain.family === 'sui') {
      if (chain.endpoint.kind === 'grpc') secrets.push(...urlSecrets(chain.endpoint.url, { userIsSecret: true }));
      for (const signer of chain.signers) secrets.push(signer.privateKey);
      continue;
    }
    if (chain.endpoint.kind === 'rpc') {
      secrets.push(...urlSecrets(chain.endpoint.rpcUrl, { userIsSecret: true }));
      if (chain.endpoint.wsUrl) secrets.push(...urlSecrets(chain.endpoint.wsUrl, { userIsSecret: true }));
    }
    if (chain.deployerPrivateKey) secrets.push(chain.deployerPrivateKey);
    for (const signer of chain.signers) secrets.push(signer.kind === 'key' ? signer.privateKey : signer.password);
  }
  if (config.webhooks.secret) secrets.push(config.webhooks.secret);
  return secrets;
}
