import { createServer } from 'node:http';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { onTestFinished } from 'vitest';
import { createPublicClient, createWalletClient, http as viemHttp, parseEther, type Address, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { foundry } from 'viem/chains';
import { startAnvil, type Anvil } from '../../src/chain/evm/anvil.js';
import { findDeployment } from '../../src/chain/evm/deployments.js';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/runtime/logger.js';
import { packageRoot } from '../../src/runtime/paths.js';
import { freePort } from '../../src/runtime/ports.js';
import { openStack, type Stack } from '../../src/wiring/stack.js';
import { startRole, type Role, type RunningRole } from '../../src/wiring/roles.js';
import { cusdAbi, p2PTradeAbi, payAbi } from '../../src/apps/payments/contracts.js';
import { CUSD_CONTRACT, P2P_CONTRACT, PAY_CONTRACT } from '../../src/apps/payments/settings.js';
import { CLI_WITH_TS_CONFIG, runCli, scratchDir } from './cli.js';
import { createEmptyDatabase } from './db.js';
import { DEV_KEYS } from '../apps/payments/dev-keys.js';
import { startSuiSimulator, type SuiSimulator } from '../../src/chain/sui/simulator/index.js';

export const PAYMENTS_CONFIG = join(packageRoot, 'test', 'apps', 'payments', 'payments.config.ts');
export const EVM_CHAIN = 'evm:31337';
/** The Sui chain's key when the world has one (`withSui`): the simulator, by URL. */
export const SUI_CHAIN = 'sui:localnet-sim';

/** A notification as the test's webhook server received it. */
export interface ReceivedNotification {
  idempotencyKey: string;
  to: string;
  title: string;
  body: string;
  data: Record<string, string>;
}

/**
 * The payments app on its own anvil (chain 31337) and PostgreSQL, with a
 * webhook server recording every notification delivered: the environment its
 * roles run with (in this process with `start`, or as separate processes), the
 * contracts deployed by `ledgersync deploy`, and wallets acting as the world
 * outside the platform (users' devices, outsiders), each a key of its own.
 * `start` works once per test file: the config module reads the environment
 * when first imported, and imports are cached. With `withSui`, the app also runs on
 * a Sui simulator with Confío's packages (`sui`: make transactions with
 * `sui.ledger.confio`, then `sui.ledger.makeCheckpoint()`).
 */
export async function paymentsWorld(options: { blockTime?: number; finality?: number; extraEnv?: Record<string, string>; withSui?: boolean } = {}) {
  const anvil: Anvil = await startAnvil({ port: await freePort(), blockTime: options.blockTime ?? 1 });
  onTestFinished(() => anvil.stop());
  const database = await createEmptyDatabase();
  onTestFinished(() => database.drop());

  const notifications: ReceivedNotification[] = [];
  const webhook = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      notifications.push(JSON.parse(body) as ReceivedNotification);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => webhook.close(() => resolve())));
  const webhookPort = (webhook.address() as { port: number }).port;

  let sui: SuiSimulator | undefined;
  if (options.withSui) {
    sui = await startSuiSimulator({ seed: 13 });
    onTestFinished(() => sui!.close());
  }
  const { confio } = sui?.ledger ?? {};
  const suiEnv: Record<string, string> =
    sui && confio
      ? { PAYMENTS_SUI_URL: sui.url, PAYMENTS_SUI_CUSD: confio.packages.cusd, PAYMENTS_SUI_PAY: confio.packages.pay, PAYMENTS_SUI_P2P: confio.packages.p2pTrade, PAYMENTS_SUI_CUSD_TYPE: confio.cusdType }
      : {};

  const cwd = scratchDir();
  const port = await freePort();
  const env: Record<string, string> = {
    DATABASE_URL: database.url,
    LEDGERSYNC_CONFIG: PAYMENTS_CONFIG,
    PAYMENTS_RPC_URL: anvil.rpcUrl,
    PAYMENTS_FINALITY: String(options.finality ?? 2),
    PAYMENTS_WEBHOOK_URL: `http://127.0.0.1:${webhookPort}/notifications`,
    DEPLOYMENTS_FILE: join(cwd, 'deployments.json'),
    LEDGERSYNC_HOME: join(cwd, 'home'),
    PORT: String(port),
    LOG_LEVEL: 'warn',
    // The balance schedules fire on the wall clock, in the middle of a test's checks: off unless the test asks
    // (test/apps/payments/schedules.test.ts); the tests queue the tasks they exercise.
    PAYMENTS_REFRESH_CRON: 'off',
    PAYMENTS_RECONCILE_CRON: 'off',
    ...suiEnv,
    ...options.extraEnv,
  };
  const base = `http://127.0.0.1:${port}`;
  let stack: Stack | undefined;
  const running: RunningRole[] = [];

  const publicClient = createPublicClient({ chain: foundry, transport: viemHttp(anvil.rpcUrl), cacheTime: 0 });
  const platform = createWalletClient({ chain: foundry, transport: viemHttp(anvil.rpcUrl), account: privateKeyToAccount(DEV_KEYS[0]) });

  /** `ledgersync deploy`, as an operator runs it on a chain reached by URL: CUSD, Pay, P2PTrade. */
  const deploy = async () => {
    const result = await runCli(['deploy'], { cwd, env, script: CLI_WITH_TS_CONFIG });
    if (result.code !== 0) throw new Error(`ledgersync deploy failed: ${result.stderr}`);
    return result.stdout;
  };
  const contract = (name: typeof CUSD_CONTRACT | typeof PAY_CONTRACT | typeof P2P_CONTRACT): Address => {
    const found = findDeployment(env.DEPLOYMENTS_FILE!, EVM_CHAIN, name);
    if (!found) throw new Error(`${name} is not deployed: run deploy() first`);
    return found.address;
  };

  /** The stack in this process, with these roles. The config file reads process.env, so it is set first. */
  const start = async (roles: Role[] = ['api', 'indexer', 'worker']) => {
    Object.assign(process.env, env);
    stack ??= await openStack(loadConfig(env, cwd), createLogger('warn'));
    for (const role of roles) running.push(await startRole(stack, role));
  };
  const stop = async () => {
    for (const role of running.splice(0).reverse()) await role.stop();
    await stack?.close();
    stack = undefined;
  };
  /** Stops the running instances of one role (the stack stays open); `start` starts it again. */
  const stopRole = async (role: Role) => {
    for (const instance of running.filter((r) => r.role === role)) {
      running.splice(running.indexOf(instance), 1);
      await instance.stop();
    }
  };
  onTestFinished(stop);

  /** A wallet outside the platform (a user's device, an outsider), with ether for gas. */
  const wallet = async (key: Hex = `0x${randomBytes(32).toString('hex')}`) => {
    const account = privateKeyToAccount(key);
    await publicClient.request({ method: 'anvil_setBalance' as never, params: [account.address, `0x${parseEther('10').toString(16)}`] as never });
    const client = createWalletClient({ chain: foundry, transport: viemHttp(anvil.rpcUrl), account });
    const write = async (hash: Promise<Hex>) => {
      const receipt = await publicClient.waitForTransactionReceipt({ hash: await hash });
      if (receipt.status !== 'success') throw new Error(`transaction ${receipt.transactionHash} reverted`);
      return receipt;
    };
    return {
      key,
      address: account.address.toLowerCase() as Address,
      client,
      transfer: (to: Address, amount: bigint) => write(client.writeContract({ address: contract(CUSD_CONTRACT), abi: cusdAbi, functionName: 'transfer', args: [to, amount] })),
      pay: async (merchant: Address, amount: bigint, reference: Hex) => {
        await write(client.writeContract({ address: contract(CUSD_CONTRACT), abi: cusdAbi, functionName: 'approve', args: [contract(PAY_CONTRACT), amount] }));
        return write(client.writeContract({ address: contract(PAY_CONTRACT), abi: payAbi, functionName: 'pay', args: [merchant, amount, reference] }));
      },
      createEscrow: async (tradeId: Hex, buyer: Address, amount: bigint) => {
        await write(client.writeContract({ address: contract(CUSD_CONTRACT), abi: cusdAbi, functionName: 'approve', args: [contract(P2P_CONTRACT), amount] }));
        return write(client.writeContract({ address: contract(P2P_CONTRACT), abi: p2PTradeAbi, functionName: 'createEscrow', args: [tradeId, buyer, amount] }));
      },
      markPaid: (tradeId: Hex) => write(client.writeContract({ address: contract(P2P_CONTRACT), abi: p2PTradeAbi, functionName: 'markPaid', args: [tradeId] })),
      release: (tradeId: Hex) => write(client.writeContract({ address: contract(P2P_CONTRACT), abi: p2PTradeAbi, functionName: 'release', args: [tradeId] })),
      cancel: (tradeId: Hex) => write(client.writeContract({ address: contract(P2P_CONTRACT), abi: p2PTradeAbi, functionName: 'cancel', args: [tradeId] })),
      dispute: (tradeId: Hex, reason: Hex) => write(client.writeContract({ address: contract(P2P_CONTRACT), abi: p2PTradeAbi, functionName: 'dispute', args: [tradeId, reason] })),
    };
  };

  const asPlatform = async (hash: Promise<Hex>) => publicClient.waitForTransactionReceipt({ hash: await hash });
  /** Mints cUSD to `to` as the platform (the minter): money arriving from outside. */
  const mint = (to: Address, amount: bigint) => asPlatform(platform.writeContract({ address: contract(CUSD_CONTRACT), abi: cusdAbi, functionName: 'mint', args: [to, amount] }));
  /** Resolves a disputed escrow as the platform (the arbitrator): to the buyer (released) or back to the seller (cancelled). */
  const resolveDispute = (tradeId: Hex, toBuyer: boolean) => asPlatform(platform.writeContract({ address: contract(P2P_CONTRACT), abi: p2PTradeAbi, functionName: 'resolve', args: [tradeId, toBuyer] }));
  const balanceOf = (address: Address) => publicClient.readContract({ address: contract(CUSD_CONTRACT), abi: cusdAbi, functionName: 'balanceOf', args: [address] });

  return {
    anvil,
    database,
    cwd,
    env,
    base,
    notifications,
    publicClient,
    deploy,
    contract,
    start,
    stop,
    stopRole,
    wallet,
    mint,
    resolveDispute,
    balanceOf,
    /** The Sui simulator, when `withSui`. */
    sui,
    pool: () => stack!.database.pool,
    stack: () => stack!,
  };
}

export type PaymentsWorld = Awaited<ReturnType<typeof paymentsWorld>>;
