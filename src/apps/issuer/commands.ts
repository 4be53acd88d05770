import { Option, type Command } from 'commander';
import { createApiKey, type CommandContext } from '../../engine/index.js';
import { COMPANY_ROLE, COMPLIANCE_ROLE, INVESTOR_ROLE } from './http.js';

/** `ledgersync issuer key create`: API keys for the platform's roles (officers, a company's users, an investor). */
export function issuerCommands(program: Command, { withDatabase }: CommandContext): void {
  const issuer = program.command('issuer').description('the issuer platform (companies raise campaigns on chain)');
  issuer
    .command('key')
    .description("API keys for the platform's roles")
    .command('create')
    .description('create an API key for a role of the issuer platform and print it once (only its SHA-256 is stored)')
    .addOption(new Option('--role <role>', 'who the key is for').choices(['compliance', 'company', 'investor']).makeOptionMandatory())
    .option('--company <id>', 'the company a company user acts for')
    .option('--investor <id>', 'the investor the key invests for')
    .option('--name <label>', 'what the key is for', 'issuer platform key')
    .action((options: { role: 'compliance' | 'company' | 'investor'; company?: string; investor?: string; name: string }) =>
      withDatabase(async (pool) => {
        const scoped = { company: options.company, investor: options.investor }[options.role as 'company' | 'investor'];
        if (options.role !== 'compliance' && !/^[1-9]\d{0,18}$/.test(scoped ?? '')) throw new Error(`--role ${options.role} needs --${options.role} <id> (a positive integer)`);
        const grant: { roles: string[]; scope?: Record<string, string> } =
          options.role === 'compliance'
            ? { roles: [COMPLIANCE_ROLE] }
            : options.role === 'company'
              ? { roles: [COMPANY_ROLE], scope: { company: scoped! } }
              : { roles: [INVESTOR_ROLE], scope: { investor: scoped! } };
        const { id, key } = await createApiKey(pool, grant, options.name);
        console.log(`key ${id} (${options.role}${scoped ? ` ${scoped}` : ''}): ${key}`);
        console.log('store it now: it is not shown again');
      }),
    );
}
