import { bcs } from '@mysten/sui/bcs';
import type { SuiGrpcClient } from '@mysten/sui/grpc';
import { Transaction } from '@mysten/sui/transactions';
import { fromBase64, normalizeStructTag, normalizeSuiAddress } from '@mysten/sui/utils';
import { encodeFunctionData, type Address, type Hex } from 'viem';
import { sponsorTransaction } from '../../../engine/index.js';
import { findAccount, normalizeAddress, type Account } from '../accounts.js';
import { AccountNotFoundError } from '../balances/balance.js';
import { cachedBalance } from '../balances/cache.js';
import { ChainUnavailableError, ContractNotDeployedError, readChainBalance } from '../balances/chain.js';
import type { SendPorts } from '../balances/ports.js';
import { cusdAbi } from '../contracts.js';
import { chainOf, CUSD, CUSD_CONTRACT, type SuiPaymentsChain } from '../settings.js';
import { InsufficientFundsError, InvalidSendError } from './send.js';

export interface PrepareRequest {
  /** The user's account (custody `user`): the sender, who signs on the device. */
  accountId: string;
  to: string;
  /** In cUSD's smallest unit (6 decimals). */
  amount: bigint;
}

/** An EVM transaction for the device to fill in and sign: what to call, and suggestions for what only the device decides. */
export interface EvmSendRequest {
  family: 'evm';
  chain: string;
  chainId: number;
  /** The cUSD contract (the transaction's `to`). */
  contract: Address;
  /** CUSD.transfer(recipient, amount), encoded. */
  data: Hex;
  value: 0n;
  /** The next nonce of the sender not taken on chain (pending block) nor by a transaction of theirs the platform holds. */
  nonce: number;
  /** A gas limit: the estimate plus 20% (a fixed 100,000 when the node cannot estimate it). */
  gas: bigint;
  /** EIP-1559 fees as the node suggests them now. */
  maxFeePerGas: bigint;
  maxPriorityFeePerGas: bigint;
}

/** A Sui transaction whose gas the platform pays: the user signs `transaction` and submits it with their signature (sendSigned) before `expiresAt`. */
export interface SuiSponsoredSend {
  family: 'sui';
  chain: string;
  /** TransactionData, base64 BCS: the bytes to sign. */
  transaction: string;
  digest: string;
  /** The platform signer paying the gas. */
  sponsor: string;
  gasBudget: bigint;
  expiresAt: Date;
}

export type PreparedSend = EvmSendRequest | SuiSponsoredSend;

/** Gas of a cUSD transfer when the node cannot estimate it (OpenZeppelin's ERC-20 transfer takes about 35k–52k). */
const FALLBACK_TRANSFER_GAS = 100_000n;
const GAS_HEADROOM_PERCENT = 120n;
const U64_MAX = 2n ** 64n - 1n;

/**
 * What a user's device needs to sign a send of `amount` cUSD to `to` (nothing is
 * reserved: sendSigned reserves when the signed bytes come back). Refused now
 * when the chain amount less the account's reservations does not cover it.
 * EVM: the call and suggestions for nonce, gas and fees (the user pays gas in
 * the chain's coin); Sui: the whole transaction, sponsored (prepareSponsoredSend).
 */
export async function prepareSend(ports: SendPorts, request: PrepareRequest): Promise<PreparedSend> {
  const { account, to } = await checkPrepare(ports, request);
  const config = chainOf(ports.settings, account.chain);
  if (config.family === 'sui') return sponsoredSend(ports, account, config, to, request.amount);
  return evmSendRequest(ports, account, to, request.amount);
}

/**
 * A Sui cUSD send the platform pays the gas of (the user needs no SUI): the
 * user's own cUSD coins (merged if it takes several, none that a pending send of
 * theirs already spends) split and transferred to `to`, built with a gas coin of
 * the platform's signer reserved for it by the engine's sponsorTransaction (held
 * until `expiresAt`). The user signs the bytes and calls sendSigned with them.
 */
export async function prepareSponsoredSend(ports: SendPorts, request: PrepareRequest): Promise<SuiSponsoredSend> {
  const { account, to } = await checkPrepare(ports, request);
  const config = chainOf(ports.settings, account.chain);
  if (config.family !== 'sui') throw new InvalidSendError(`account ${account.id} is on ${account.chain}: the platform sponsors gas on Sui only`);
  return sponsoredSend(ports, account, config, to, request.amount);
}

async function checkPrepare(ports: SendPorts, request: PrepareRequest): Promise<{ account: Account; to: string }> {
  const account = await findAccount(ports.pool, request.accountId);
  if (!account) throw new AccountNotFoundError(`no payments account ${request.accountId}`);
  if (account.custody !== 'user') throw new InvalidSendError(`account ${account.id} is custodial: the platform signs its sends (send), there is nothing for a device to sign`);
  if (typeof request.amount !== 'bigint' || request.amount <= 0n) throw new InvalidSendError(`the amount must be a positive integer of the token's smallest unit, not ${String(request.amount)}`);
  const to = normalizeAddress(account.chain, request.to);
  if (to === account.address) throw new InvalidSendError(`account ${account.id} cannot send to itself`);
  return { account, to };
}

const pendingOut = async (ports: SendPorts, accountId: string) => (await cachedBalance(ports.pool, accountId, CUSD.symbol))?.pendingOut ?? 0n;

async function evmSendRequest(ports: SendPorts, account: Account, to: string, amount: bigint): Promise<EvmSendRequest> {
  const reader = ports.chains.get(account.chain);
  if (!reader) throw new ChainUnavailableError(`chain ${account.chain} is not configured in this deployment`);
  const contract = ports.deployment(account.chain, CUSD_CONTRACT);
  if (!contract) throw new ContractNotDeployedError(`${CUSD_CONTRACT} is not deployed on ${account.chain}: run \`ledgersync deploy\``);
  const read = await readChainBalance(ports, account.chain, account.address);
  const available = read.amount - (await pendingOut(ports, account.id));
  if (available < amount) throw new InsufficientFundsError(account.id, amount, available > 0n ? available : 0n);

  const data = encodeFunctionData({ abi: cusdAbi, functionName: 'transfer', args: [to as Address, amount] });
  const sender = account.address as Address;
  try {
    const [onChain, fees, estimate] = await Promise.all([
      reader.client.getTransactionCount({ address: sender, blockTag: 'pending' }),
      reader.client.estimateFeesPerGas(),
      reader.client.estimateGas({ account: sender, to: contract, data }).catch(() => undefined),
    ]);
    // Transactions of the user's the platform holds but has not broadcast yet hold their nonces too.
    const { rows } = await ports.pool.query<{ next: string | null }>(
      `select (max(sequence) + 1)::text as next from relayer_intents where chain = $1 and sender = $2 and state not in ('confirmed', 'failed')`,
      [account.chain, account.address],
    );
    const held = rows[0]?.next ? Number(rows[0].next) : 0;
    return {
      family: 'evm',
      chain: account.chain,
      chainId: reader.chainId,
      contract,
      data,
      value: 0n,
      nonce: Math.max(onChain, held),
      gas: estimate ? (estimate * GAS_HEADROOM_PERCENT) / 100n : FALLBACK_TRANSFER_GAS,
      maxFeePerGas: fees.maxFeePerGas,
      maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
    };
  } catch (error) {
    throw new ChainUnavailableError(`cannot prepare a transaction on ${account.chain}: ${(error as Error).message.split('\n')[0]}`, { cause: error });
  }
}

interface CoinRef {
  objectId: string;
  version: string;
  digest: string;
  balance: bigint;
}

async function sponsoredSend(ports: SendPorts, account: Account, config: SuiPaymentsChain, to: string, amount: bigint): Promise<SuiSponsoredSend> {
  if (amount > U64_MAX) throw new InvalidSendError('the amount is above what a Sui coin holds (u64)');
  const reader = ports.suiChains.get(account.chain);
  if (!reader) throw new ChainUnavailableError(`chain ${account.chain} is not configured in this deployment`);
  const sponsor = platformSigner(ports, account.chain);

  const coins = await ownedCusdCoins(reader.client, account.address, config.cusdType);
  const busy = await coinsInFlight(ports, account.id);
  const free = coins.filter((c) => !busy.has(c.objectId)).sort((a, b) => (a.balance === b.balance ? 0 : a.balance > b.balance ? -1 : 1));
  // What the pending sends reserve is held in their coins; what the other coins hold is what may be sent now.
  const total = free.reduce((s, c) => s + c.balance, 0n);
  const reservedElsewhere = (await pendingOut(ports, account.id)) - coins.filter((c) => busy.has(c.objectId)).reduce((s, c) => s + c.balance, 0n);
  const available = total - (reservedElsewhere > 0n ? reservedElsewhere : 0n);
  if (available < amount) throw new InsufficientFundsError(account.id, amount, available > 0n ? available : 0n);
  const used: CoinRef[] = [];
  for (let sum = 0n; sum < amount; ) {
    const coin = free[used.length]!;
    used.push(coin);
    sum += coin.balance;
  }

  const tx = new Transaction();
  const [primary, ...rest] = used.map((c) => tx.objectRef({ objectId: c.objectId, version: c.version, digest: c.digest }));
  if (rest.length > 0) tx.mergeCoins(primary!, rest);
  const [part] = tx.splitCoins(primary!, [tx.pure.u64(amount)]);
  tx.transferObjects([part!], tx.pure.address(to));
  const sponsored = await sponsorTransaction(ports.pool, reader.client, { chain: account.chain, sponsor, sender: account.address, transaction: tx });
  return { family: 'sui', chain: account.chain, sponsor, ...sponsored };
}

/** The platform's signer on the chain (settings.platformSigner: a role or an address): who pays sponsored gas. */
function platformSigner(ports: SendPorts, chain: string): string {
  const wanted = ports.settings.platformSigner;
  const signers = ports.outbox.signers(chain);
  const address = wanted.startsWith('0x') ? normalizeSuiAddress(wanted) : undefined;
  const signer = signers.find((s) => s.address === address) ?? signers.find((s) => s.roles.includes(wanted));
  if (!signer) throw new Error(`no platform signer ${wanted} on ${chain} to sponsor gas: configure a signer with that role`);
  return signer.address;
}

/** The owner's cUSD coins as the chain lists them now, with the references a transaction names them by. */
async function ownedCusdCoins(client: SuiGrpcClient, owner: string, cusdType: string): Promise<CoinRef[]> {
  const coins: CoinRef[] = [];
  let pageToken: Uint8Array | undefined;
  try {
    do {
      const { response } = await client.stateService.listOwnedObjects({
        owner,
        objectType: normalizeStructTag(`0x2::coin::Coin<${cusdType}>`),
        pageSize: 1000,
        ...(pageToken ? { pageToken } : {}),
        readMask: { paths: ['object_id', 'version', 'digest', 'balance'] },
      });
      for (const o of response.objects) coins.push({ objectId: normalizeSuiAddress(o.objectId!), version: String(o.version!), digest: o.digest!, balance: o.balance ?? 0n });
      pageToken = response.nextPageToken?.length ? response.nextPageToken : undefined;
    } while (pageToken);
  } catch (error) {
    throw new ChainUnavailableError(`cannot list the cUSD coins of ${owner}: ${(error as Error).message.split('\n')[0]}`, { cause: error });
  }
  return coins;
}

/**
 * The coins the account's pending user-signed sends spend (read from their stored
 * bytes): a second transaction naming the same coin version would fail once the
 * first executes, so they are not offered again until those sends settle.
 */
async function coinsInFlight(ports: SendPorts, accountId: string): Promise<Set<string>> {
  const { rows } = await ports.pool.query<{ payload: string }>(
    `select i.payload from payment_sends s join relayer_intents i on i.id = s.intent_id where s.account_id = $1 and s.state = 'pending' and s.mode = 'user_signed'`,
    [accountId],
  );
  const ids = new Set<string>();
  for (const { payload } of rows) {
    const inputs = bcs.TransactionData.parse(fromBase64(payload)).V1?.kind.ProgrammableTransaction?.inputs ?? [];
    for (const input of inputs) if (input.$kind === 'Object' && input.Object.ImmOrOwnedObject) ids.add(normalizeSuiAddress(input.Object.ImmOrOwnedObject.objectId));
  }
  return ids;
}
