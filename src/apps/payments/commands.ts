import { InvalidArgumentError, type Command } from 'commander';
import { createApiKey, inTransaction, type CommandContext, type CommandPorts } from '../../engine/index.js';
import { addAccount, ensureUser, findAccount, normalizeAddress } from './accounts.js';
import { mintCusd } from './operator.js';
import { getBalance, readChainBalance, type Balance } from './balances/index.js';
import { formatAmount } from './notifications/index.js';
import { chainOf, CUSD, type PaymentsSettings } from './settings.js';

/** A command's failure the user can act on: printed as one line, exit code 1. */
export class PaymentsCommandError extends Error {
  override name = 'PaymentsCommandError';
}

/**
 * `ledgersync payments …`: seed 002's and 004's management commands.
 * - `test-connection [--chain] [--address]`: each chain's reachability, latest height and answer time, and an address's cUSD balance;
 * - `balance --account <id> [--verify-critical] [--benchmark]`: an account's balance, cached or from the chain; the benchmark
 *   times both reads and prints their p50 and p99 side by side, and how many RPC calls the cached reads made (none);
 * - `user add`: a user with an account on a chain and their API key (what a sign-up does; for operators and trials);
 * - `mint --to --amount`: cUSD minted on an EVM chain by the platform signer, through the outbox (a deposit, a faucet).
 */
export function paymentsCommands(settings: PaymentsSettings) {
  return (program: Command, context: CommandContext): void => {
    // A bad option is one line (and exit code 1), not the error followed by the whole help.
    const payments = program.command('payments').description('Confío payments: check the chains, read balances').showHelpAfterError(false);

    payments
      .command('test-connection')
      .description("reach each payments chain: latest block or checkpoint, answer time, and an address's cUSD balance")
      .option('--chain <key>', 'only this chain (e.g. evm:31337, sui:testnet)')
      .option('--address <address>', 'also read the cUSD balance of this address')
      .action((options: { chain?: string; address?: string }) =>
        context.withChains(async (ports) => {
          const chains = options.chain ? [chainOf(settings, options.chain)] : settings.chains;
          let failed = 0;
          for (const { chain } of chains) {
            try {
              const started = performance.now();
              const head = await latestHeight(ports, chain);
              const ms = performance.now() - started;
              let line = `ok    ${chain}: latest ${chain.startsWith('sui:') ? 'checkpoint' : 'block'} ${head}, answered in ${ms.toFixed(0)} ms`;
              if (options.address) {
                const address = normalizeAddress(chain, options.address);
                const { amount, height } = await readChainBalance({ ...ports, settings }, chain, address);
                line += `; ${address} holds ${formatAmount(amount, CUSD.decimals, 'en')} ${CUSD.symbol} at ${height}`;
              }
              console.log(line);
            } catch (error) {
              failed++;
              console.log(`FAIL  ${chain}: ${oneLine(error)}`);
            }
          }
          if (failed > 0) process.exitCode = 1;
        }),
      );

    payments
      .command('balance')
      .description("an account's cUSD balance: cached (as the home screen reads it) or from the chain (--verify-critical)")
      .requiredOption('--account <id>', 'the payment account id', accountId)
      .option('--token <symbol>', 'the token', CUSD.symbol)
      .option('--verify-critical', 'read the chain (and update the cache), as a send does')
      .option('--benchmark', 'time cached reads against chain reads and print both')
      .option('--iterations <n>', 'reads of each kind for --benchmark', positiveInteger, 200)
      .action((options: { account: string; token: string; verifyCritical?: boolean; benchmark?: boolean; iterations: number }) =>
        context.withChains(async (ports) => {
          const account = await findAccount(ports.pool, options.account);
          if (!account) throw new PaymentsCommandError(`no payment account ${options.account}`);
          const balancePorts = { ...ports, settings };
          if (!options.benchmark) {
            const balance = await getBalance(balancePorts, account.id, options.token, { verifyCritical: options.verifyCritical ?? false });
            console.log(describeBalance(account.chain, account.address, balance));
            return;
          }
          // The cache is filled by one chain read first, so the cached reads measure the cache and nothing else.
          await getBalance(balancePorts, account.id, options.token, { verifyCritical: true });
          const callsBefore = ports.rpcCalls(account.chain);
          const cached = await timeReads(options.iterations, () => getBalance(balancePorts, account.id, options.token, { verifyCritical: false }));
          const cachedCalls = ports.rpcCalls(account.chain) - callsBefore;
          const critical = await timeReads(options.iterations, () => getBalance(balancePorts, account.id, options.token, { verifyCritical: true }));
          console.log(`account ${account.id} on ${account.chain} (${account.address}), ${options.iterations} reads of each kind`);
          console.log(`cached read   p50 ${ms(cached.p50)}  p99 ${ms(cached.p99)}  (${cachedCalls} RPC calls in all)`);
          console.log(`chain read    p50 ${ms(critical.p50)}  p99 ${ms(critical.p99)}`);
          console.log(`cached p50 is ${(critical.p50 / cached.p50).toFixed(0)}× faster than a chain read`);
        }),
      );

    payments
      .command('user')
      .description('payment users')
      .command('add')
      .description("add a user's account on a chain (the user too, if new) and print the user's API key (once)")
      .requiredOption('--ref <id>', "the app's own id of the user")
      .requiredOption('--address <address>', "the user's address on the chain")
      .option('--chain <key>', 'the chain (default: the first payments chain)')
      .option('--custodial', "the platform holds the address's key (one of the chain's signers) and signs the user's sends")
      .option('--locale <tag>', 'the language of their notifications', 'es')
      .option('--push <provider:target>', 'where their notifications go, e.g. webhook:device-1 or fcm:<token>', pushTarget)
      .action((options: { ref: string; address: string; chain?: string; custodial?: boolean; locale: string; push?: { provider: string; target: string } }) =>
        context.withDatabase(async (pool) => {
          const chain = options.chain ? chainOf(settings, options.chain).chain : settings.chains[0]!.chain;
          const address = normalizeAddress(chain, options.address);
          const { user, account } = await inTransaction(pool, async (client) => {
            const user = await ensureUser(client, { externalRef: options.ref, locale: options.locale, ...(options.push ? { push: options.push } : {}) });
            const account = await addAccount(client, { userId: user.id, chain, address, custody: options.custodial ? 'custodial' : 'user' });
            return { user, account };
          }).catch((error: unknown) => {
            if ((error as { code?: string }).code === '23505') throw new PaymentsCommandError(`${address} on ${chain} already has an account, or user ${options.ref} already has one there`);
            throw error;
          });
          const key = await createApiKey(pool, { roles: ['payments.user'], scope: { user: user.id } }, `payments user ${options.ref}`);
          console.log(`user ${user.id} (${options.ref}), account ${account.id} on ${chain} at ${account.address} (${account.custody})`);
          console.log(`API key (printed once; GraphQL: Authorization: Bearer …): ${key.key}`);
        }),
      );

    payments
      .command('mint')
      .description('mint cUSD to an address on an EVM chain, signed by the platform signer (queued; the worker sends it)')
      .requiredOption('--to <address>', 'who receives it')
      .requiredOption('--amount <cUSD>', 'how much, in cUSD (e.g. 100 or 12.50)', cusdAmount)
      .option('--chain <key>', 'the chain (default: the first payments chain)')
      .option('--key <idempotency key>', 'a second mint with the same key mints nothing more (default: a new one)')
      .action((options: { to: string; amount: bigint; chain?: string; key?: string }) =>
        context.withChains(async (ports) => {
          const chain = options.chain ? chainOf(settings, options.chain).chain : settings.chains[0]!.chain;
          const why = ports.unreachable(chain);
          if (why) throw new PaymentsCommandError(why);
          const key = options.key ?? `cli:${Date.now()}:${Math.random().toString(36).slice(2)}`;
          const { intentId, created } = await mintCusd({ ...ports, settings }, { chain, to: options.to, amount: options.amount, idempotencyKey: key });
          console.log(`${created ? 'queued' : 'already queued'}: intent ${intentId} mints ${formatAmount(options.amount, CUSD.decimals, 'en')} ${CUSD.symbol} to ${normalizeAddress(chain, options.to)} on ${chain}`);
        }),
      );
  };
}

/** `--amount 12.50`: cUSD in whole units, at most 6 decimals, above zero. */
function cusdAmount(value: string): bigint {
  const match = /^(\d{1,30})(?:\.(\d{1,6}))?$/.exec(value);
  const amount = match ? BigInt(match[1]!) * 10n ** BigInt(CUSD.decimals) + BigInt((match[2] ?? '').padEnd(CUSD.decimals, '0')) : 0n;
  if (amount <= 0n) throw new InvalidArgumentError(`an amount of ${CUSD.symbol} above zero with at most ${CUSD.decimals} decimals, e.g. 12.50`);
  return amount;
}

/** `--push webhook:device-1`: a push provider and its target. */
function pushTarget(value: string): { provider: string; target: string } {
  const at = value.indexOf(':');
  if (at < 1 || at === value.length - 1) throw new InvalidArgumentError('provider:target, e.g. webhook:device-1 or fcm:<device token>');
  return { provider: value.slice(0, at), target: value.slice(at + 1) };
}

/** The chain's latest block or checkpoint, through the command's readers. */
async function latestHeight(ports: CommandPorts, chain: string): Promise<bigint> {
  const why = ports.unreachable(chain);
  if (why) throw new PaymentsCommandError(why);
  const sui = ports.suiChains.get(chain);
  if (sui) {
    const { response } = await sui.client.ledgerService.getServiceInfo({});
    return response.checkpointHeight ?? 0n;
  }
  const evm = ports.chains.get(chain);
  if (!evm) throw new PaymentsCommandError(`${chain} is not configured`);
  return evm.client.getBlockNumber({ cacheTime: 0 });
}

function describeBalance(chain: string, address: string, b: Balance): string {
  const amount = (v: bigint) => `${formatAmount(v, CUSD.decimals, 'en')} ${CUSD.symbol}`;
  const synced = b.lastSynced ? `, read at ${b.source === 'chain' ? 'the chain' : 'height'} ${b.height ?? '?'} ${b.lastSynced.toISOString()}` : '';
  return [
    `${address} on ${chain}: ${amount(b.amount)} (${b.source === 'chain' ? 'from the chain' : 'cached'}${b.stale ? ', stale' : ''}${synced})`,
    `pending out ${amount(b.pendingOut)}, pending in ${amount(b.pendingIn)}, available ${amount(b.available)}`,
  ].join('\n');
}

/** `n` reads one after the other; their p50 and p99 in milliseconds (also bench/balances' measure). */
export async function timeReads(n: number, read: () => Promise<unknown>): Promise<{ p50: number; p99: number }> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    await read();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!;
  return { p50: at(0.5), p99: at(0.99) };
}

const ms = (value: number) => `${value.toFixed(2)} ms`.padStart(10);

function accountId(value: string): string {
  if (!/^[1-9]\d{0,18}$/.test(value)) throw new InvalidArgumentError('an account id is a positive integer');
  return value;
}

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 100_000) throw new InvalidArgumentError('a whole number from 1 to 100000');
  return n;
}

function oneLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
}
