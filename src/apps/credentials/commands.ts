import type { Command } from 'commander';
import type pg from 'pg';
import type { Address } from 'viem';
import { createApiKey, revokeApiKey } from './api-keys.js';

/** `ledgersync api-key create|revoke`: keys for the write API, scoped to an institution. */
export function credentialCommands(program: Command, withDatabase: (work: (pool: pg.Pool) => Promise<void>) => Promise<void>): void {
  const apiKey = program.command('api-key').description('manage API keys for issuing and revoking credentials (each scoped to one institution)');
  apiKey
    .command('create')
    .description('create a key and print it once (only its SHA-256 is stored)')
    .requiredOption('--institution <address>', "the institution's on-chain address")
    .option('--name <label>', 'what the key is for', 'api key')
    .action((options: { institution: string; name: string }) =>
      withDatabase(async (pool) => {
        if (!/^0x[0-9a-fA-F]{40}$/.test(options.institution)) throw new Error(`--institution: expected a 0x-prefixed 20-byte address`);
        const { id, key } = await createApiKey(pool, options.institution as Address, options.name);
        console.log(`key ${id} for ${options.institution.toLowerCase()}: ${key}`);
        console.log('store it now: it is not shown again');
      }),
    );
  apiKey
    .command('revoke')
    .description('revoke a key by its id (the part after lsk_)')
    .argument('<id>')
    .action((id: string) =>
      withDatabase(async (pool) => {
        if (!(await revokeApiKey(pool, id))) throw new Error(`no active API key ${id}`);
        console.log(`key ${id} revoked`);
      }),
    );
}
