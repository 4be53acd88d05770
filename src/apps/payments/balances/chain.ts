import { BaseError, ContractFunctionZeroDataError } from 'viem';
import type { Address } from 'viem';
import type { ChainKey } from '../../../engine/index.js';
import { cusdAbi } from '../contracts.js';
import { chainOf, CUSD_CONTRACT } from '../settings.js';
import type { BalancePorts } from './ports.js';

/** The chain did not answer (unreachable, timing out, refusing the call): the balance cannot be read now. */
export class ChainUnavailableError extends Error {
  override name = 'ChainUnavailableError';
}

/** cUSD has no contract on this chain yet (not in the deployments file, or no code at its address). */
export class ContractNotDeployedError extends Error {
  override name = 'ContractNotDeployedError';
}

/** Balances of some addresses as the chain holds them at one height. */
export interface ChainBalances {
  /**
   * The node's latest block (Sui: checkpoint) read just before the balances, so
   * the amounts are at least that recent: they are read at the latest state (a
   * Sui node answers balances for its latest state only; on EVM a node without
   * archive keeps no state of past blocks).
   */
  height: bigint;
  amounts: bigint[];
  readAt: Date;
  /**
   * Asked for with `{ upTo: true }`: the head read again just after the
   * balances, so the amounts are at most that recent. Whoever judges them
   * against what the poller saw needs the poller to have reached it.
   */
  upTo?: bigint;
}

/** How many balance reads of one batch are in flight at once. */
const READ_CONCURRENCY = 8;

/**
 * The cUSD balances of `addresses` on `chain`: the head read once, then each
 * balance at the latest state. Every call goes through the chain's
 * metered client (the engine's RPC meter counts it).
 */
export async function readChainBalances(ports: BalancePorts, chain: ChainKey, addresses: string[], options: { upTo?: boolean } = {}): Promise<ChainBalances> {
  const config = chainOf(ports.settings, chain);
  return config.family === 'evm' ? readEvm(ports, chain, addresses, options) : readSui(ports, chain, config.cusdType, addresses, options);
}

/** One address's balance (a critical read). */
export async function readChainBalance(ports: BalancePorts, chain: ChainKey, address: string): Promise<{ amount: bigint; height: bigint; readAt: Date }> {
  const { amounts, height, readAt } = await readChainBalances(ports, chain, [address]);
  return { amount: amounts[0]!, height, readAt };
}

async function readEvm(ports: BalancePorts, chain: ChainKey, addresses: string[], options: { upTo?: boolean }): Promise<ChainBalances> {
  const reader = ports.chains.get(chain);
  if (!reader) throw new ChainUnavailableError(`chain ${chain} is not configured in this deployment`);
  const cusd = ports.deployment(chain, CUSD_CONTRACT);
  if (!cusd) throw new ContractNotDeployedError(`${CUSD_CONTRACT} is not deployed on ${chain} (no entry in the deployments file): run \`ledgersync deploy\``);
  try {
    // The head first, then the balances at the latest block: the amounts are at that height or above it. Reading
    // at `height` itself would fail on a node that keeps no state of past blocks (anvil --prune-history, a pruned
    // full node) whenever a block arrives in between.
    const height = await reader.client.getBlockNumber({ cacheTime: 0 });
    const amounts = await mapLimit(addresses, READ_CONCURRENCY, (address) =>
      reader.client.readContract({ address: cusd, abi: cusdAbi, functionName: 'balanceOf', args: [address as Address], blockTag: 'latest' }),
    );
    const readAt = new Date();
    if (!options.upTo) return { height, amounts, readAt };
    return { height, amounts, readAt, upTo: await reader.client.getBlockNumber({ cacheTime: 0 }) };
  } catch (error) {
    if (error instanceof BaseError && error.walk((e) => e instanceof ContractFunctionZeroDataError)) {
      throw new ContractNotDeployedError(`${CUSD_CONTRACT} has no code at ${cusd} on ${chain}: the deployments file does not match this chain`);
    }
    throw new ChainUnavailableError(`cannot read cUSD balances on ${chain}: ${firstLine(error)}`, { cause: error });
  }
}

async function readSui(ports: BalancePorts, chain: ChainKey, coinType: string, addresses: string[], options: { upTo?: boolean }): Promise<ChainBalances> {
  const reader = ports.suiChains.get(chain);
  if (!reader) throw new ChainUnavailableError(`chain ${chain} is not configured in this deployment`);
  const checkpointHeight = async () => {
    const { response: info } = await reader.client.ledgerService.getServiceInfo({});
    if (info.checkpointHeight === undefined) throw new Error('the node did not report its checkpoint height');
    return info.checkpointHeight;
  };
  try {
    const height = await checkpointHeight();
    const amounts = await mapLimit(addresses, READ_CONCURRENCY, async (owner) => {
      const { response } = await reader.client.stateService.getBalance({ owner, coinType });
      return response.balance?.balance ?? 0n;
    });
    const readAt = new Date();
    if (!options.upTo) return { height, amounts, readAt };
    return { height, amounts, readAt, upTo: await checkpointHeight() };
  } catch (error) {
    throw new ChainUnavailableError(`cannot read cUSD balances on ${chain}: ${firstLine(error)}`, { cause: error });
  }
}

/** Only the first line: viem's later lines name the endpoint's URL, which may hold an API key. */
function firstLine(error: unknown): string {
  const message = error instanceof BaseError ? error.shortMessage : error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]!;
}

/** `work` over `items`, at most `limit` at a time, results in order. */
export async function mapLimit<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}
