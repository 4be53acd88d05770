import type { Command } from 'commander';
import { ADMIN_ROLE, createApiKey, revokeApiKey, type CommandContext } from '../../engine/index.js';
import { INSTITUTION_ROLE } from './writes.js';

/** `ledgersync api-key create|revoke`: keys for the write API, scoped to an institution. */
export function credentialCommands(program: Command, { withDatabase }: CommandContext): void {
  const apiKey = program.command('api-key').description('manage API keys for issuing and revoking credentials (each scoped to one institution)');
  apiKey
    .command('create')
    .description('create a key and print it once (only its SHA-256 is stored)')
    .option('--institution <address>', 'issue and revoke for this institution (its on-chain address)')
    .option('--admin', 'register institutions (the relayer signer must hold the vault admin role)')
    .option('--name <label>', 'what the key is for', 'api key')
    .action((options: { institution?: string; admin?: boolean; name: string }) =>
      withDatabase(async (pool) => {
        if (!options.institution === !options.admin) throw new Error('give exactly one of --institution <address> or --admin');
        if (options.institution && !/^0x[0-9a-fA-F]{40}$/.test(options.institution)) throw new Error(`--institution: expected a 0x-prefixed 20-byte address`);
        const grant = options.institution ? { roles: [INSTITUTION_ROLE], scope: { institution: options.institution.toLowerCase() } } : { roles: [ADMIN_ROLE] };
        const { id, key } = await createApiKey(pool, grant, options.name);
        console.log(`key ${id} for ${options.institution?.toLowerCase() ?? 'administration'}: ${key}`);
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
