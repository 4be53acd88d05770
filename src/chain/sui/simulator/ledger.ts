/**
 * The simulated chain: a deterministic, seedable ledger of checkpoints, coin objects and
 * address balances. Transactions executed through the RPC (or `fund`) wait in a pending list
 * and go into the next checkpoint, made on demand (`makeCheckpoint`, `emitCheckpoints`,
 * `advanceEpoch`) or on a timer. Every checkpoint opens with a consensus commit prologue, as
 * Sui's do, so user transactions start at index 1.
 *
 * Owned-object locks are kept per epoch: a second, different transaction on an object version
 * already used this epoch equivocates, and the object is refused until `advanceEpoch()`.
 * (This is Sui's worst case — neither transaction certified — applied even when the first one
 * executed, so that a relayer that ever signs two transactions on one coin is caught.)
 */
import { EventEmitter } from 'node:events';
import { normalizeSuiAddress } from '@mysten/sui/utils';
import { admit, parseTransaction, type ChainView } from './admission.js';
import { ChainStore } from './chain-store.js';
import { ConfioPackages } from './confio.js';
import { Equivocation } from './errors.js';
import { execute } from './execute.js';
import { ObjectStore, objectDigest, type Coin } from './objects.js';
import type { CheckpointRecord, PlacedTx, TxRecord } from './records.js';
import { fundingTransaction, systemTransaction } from './system-tx.js';
import { balanceChanges, decodePosition, describe, positionalDigest, synthesize, touchesWatched, type Segment, type TrafficContext, type TrafficPlan } from './traffic.js';
import { groundTruth, type Truth, type TruthQuery } from './truth.js';
import { address, digest58, hash, normalizeType } from './util.js';

export type { Truth, TruthQuery };

export interface LedgerOptions {
  /** Seeds every identifier and all generated traffic (default 1). */
  seed?: number;
  /** GetServiceInfo's `chain` (default 'localnet-sim'). */
  chainName?: string;
  /** Checkpoint n is stamped genesisTimestampMs + n × checkpointIntervalMs: time is simulated. */
  genesisTimestampMs?: number;
  checkpointIntervalMs?: number;
  referenceGasPrice?: bigint;
  /** Packages that hold the simulated `payments` module (default: one, derived from the seed). */
  packages?: string[];
}

const CACHE_SIZE = 256;

export class SuiLedger extends EventEmitter<{ checkpoint: [number] }> {
  readonly seed: number;
  readonly chainName: string;
  readonly referenceGasPrice: bigint;
  /** The first of `packages` (each of them has the simulated `payments` module). */
  readonly packageId: string;
  readonly packages: readonly string[];
  /** A cUSD-like coin type, `0x…::cusd::CUSD`: Confío's, published by `confio.packages.cusd`. */
  readonly cusdType: string;
  /** Confío's packages (cusd, confio, pay, p2p_trade) and helpers that make their transactions (see confio.ts). */
  readonly confio: ConfioPackages;
  /** The address `fund` and generated deposits send from. */
  readonly faucet: string;
  readonly objects = new ObjectStore();
  readonly #store = new ChainStore();
  readonly #genesisMs: number;
  readonly #intervalMs: number;
  readonly #segments: Segment[] = [];
  readonly #materialized = new Map<number, TxRecord[]>();
  readonly #executed = new Map<string, PlacedTx>();
  #pending: PlacedTx[] = [];
  readonly #locks = new Map<string, string>();
  readonly #equivocated = new Map<string, { version: bigint; digests: string[] }>();
  readonly #cache = new Map<number, CheckpointRecord>();
  readonly #traffic: TrafficContext;
  #funded = 0;
  /** Executions run one at a time, as a validator orders its locks. */
  #queue: Promise<unknown> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;

  constructor(options: LedgerOptions = {}) {
    super();
    this.seed = options.seed ?? 1;
    this.chainName = options.chainName ?? 'localnet-sim';
    this.referenceGasPrice = options.referenceGasPrice ?? 1000n;
    this.#genesisMs = options.genesisTimestampMs ?? 1_700_000_000_000;
    this.#intervalMs = options.checkpointIntervalMs ?? 250;
    this.packages = (options.packages ?? [address('package', this.seed)]).map((p) => normalizeSuiAddress(p));
    this.packageId = this.packages[0]!;
    this.cusdType = normalizeType(`${address('cusd', this.seed)}::cusd::CUSD`);
    this.confio = new ConfioPackages(
      {
        seed: this.seed,
        objects: this.objects,
        epoch: () => this.epoch,
        nowMs: () => this.timestampMs(this.height + 1),
        epochStartMs: () => this.timestampMs(this.#store.epochRange(this.epoch)?.first ?? 0),
        place: (tx) => {
          const placed = { tx };
          this.#pending.push(placed);
          this.#executed.set(tx.digest, placed);
        },
      },
      address('cusd', this.seed),
    );
    this.faucet = address('faucet', this.seed);
    this.#traffic = {
      seed: this.seed,
      cusdType: this.cusdType,
      faucet: this.faucet,
      referenceGasPrice: this.referenceGasPrice,
      foreignPackages: [0, 1, 2, 3].map((k) => address('foreign-package', this.seed, k)),
    };
    // Every open subscription waits on 'checkpoint': many listeners are the normal case.
    this.setMaxListeners(0);
    this.makeCheckpoint(); // genesis
  }

  /** The digest of checkpoint 0, as Sui's chain identifier is. */
  get chainId(): string {
    return this.#store.skeleton(0)!.digest;
  }

  get epoch(): number {
    return this.#store.epoch;
  }

  /** The latest checkpoint's sequence number. */
  get height(): number {
    return this.#store.height;
  }

  get foreignPackages(): readonly string[] {
    return this.#traffic.foreignPackages;
  }

  timestampMs(seq: number): number {
    return this.#genesisMs + seq * this.#intervalMs;
  }

  /** Executed transactions not yet in a checkpoint. */
  pending(): readonly TxRecord[] {
    return this.#pending.map((p) => p.tx);
  }

  // ---- state for tests -------------------------------------------------------------------

  /** Gives `address` `amount` of `coinType` in `objects` new coins, by a faucet transaction in the next checkpoint. */
  fund(owner: string, coinType: string, amount: bigint, objects = 1): Coin[] {
    const to = normalizeSuiAddress(owner);
    const type = normalizeType(coinType);
    if (objects < 1 || amount < BigInt(objects)) throw new Error('fund: need at least one coin and one unit per coin');
    const digest = digest58('fund', this.seed, this.#funded++);
    const share = amount / BigInt(objects);
    const coins = Array.from({ length: objects }, (_, i): Coin => {
      const objectId = address('object', digest, i);
      const balance = i === 0 ? amount - share * BigInt(objects - 1) : share;
      return { objectId, coinType: type, balance, owner: to, version: 1n, digest: objectDigest(objectId, 1n, to, balance), previousTransaction: digest };
    });
    for (const coin of coins) this.objects.put(coin);
    const tx = fundingTransaction(digest, this.faucet, to, coins, this.referenceGasPrice, this.epoch);
    const placed = { tx };
    this.#pending.push(placed);
    this.#executed.set(digest, placed);
    return coins;
  }

  /** Coins `owner` holds, by object id, of one coin type if given. */
  coins(owner: string, coinType?: string): Coin[] {
    const type = coinType && normalizeType(coinType);
    return this.objects.owned(normalizeSuiAddress(owner), (c) => !type || c.coinType === type);
  }

  balance(owner: string, coinType: string): { coins: bigint; address: bigint; total: bigint } {
    const type = normalizeType(coinType);
    const coins = this.coins(owner, type).reduce((sum, c) => sum + c.balance, 0n);
    const inAddress = this.objects.addressBalance(normalizeSuiAddress(owner), type);
    return { coins, address: inAddress, total: coins + inAddress };
  }

  isEquivocated(objectId: string): boolean {
    return this.#equivocated.has(normalizeSuiAddress(objectId));
  }

  // ---- checkpoints -----------------------------------------------------------------------

  /** Seals the pending transactions (maybe none) into a new checkpoint; returns its sequence number. */
  makeCheckpoint(options: { endOfEpoch?: boolean } = {}): number {
    const placed = this.#pending;
    this.#pending = [];
    const seq = this.height + 1;
    const txs = placed.map((p) => p.tx);
    const contentKey = hash('contents', seq, ...txs.map((t) => t.digest));
    const endOfEpoch = options.endOfEpoch ?? false;
    this.#store.append(contentKey, txs.length + 1 + (endOfEpoch ? 1 : 0), this.timestampMs(seq), endOfEpoch);
    this.#materialized.set(seq, txs);
    placed.forEach((p, i) => Object.assign(p, { checkpoint: seq, index: i + 1, timestampMs: this.timestampMs(seq) }));
    this.emit('checkpoint', seq);
    return seq;
  }

  /**
   * Appends `count` checkpoints of generated traffic (after sealing any pending transactions
   * into a checkpoint of their own); returns the range. Fast: about 10 µs a checkpoint.
   */
  emitCheckpoints(count: number, plan: Partial<TrafficPlan> = {}): { from: number; to: number } {
    if (this.#pending.length > 0) this.makeCheckpoint();
    const full: TrafficPlan = {
      relevantEvery: plan.relevantEvery ?? 10,
      packages: (plan.packages ?? [this.packageId]).map((p) => normalizeSuiAddress(p)),
      addresses: (plan.addresses ?? []).map((a) => normalizeSuiAddress(a)),
      transactionsPerCheckpoint: plan.transactionsPerCheckpoint ?? 2,
      failureRate: plan.failureRate ?? 0.05,
    };
    if (!Number.isInteger(count) || count < 1) throw new Error('emitCheckpoints: count must be a positive integer');
    if (!Number.isInteger(full.relevantEvery) || full.relevantEvery < 1) throw new Error('emitCheckpoints: relevantEvery must be a positive integer');
    const segment: Segment = { index: this.#segments.length, from: this.height + 1, to: this.height + count, plan: full, deposits: [] };
    const watched = new Set(full.addresses);
    // First pass: what watched addresses pay out in the segment, for the deposit that opens it.
    if (watched.size > 0) {
      const outflow = new Map<string, { address: string; coinType: string; amount: bigint }>();
      for (let seq = segment.from; seq <= segment.to; seq++) {
        for (const tx of describe(this.#traffic, segment, seq)) {
          if (!touchesWatched(tx)) continue;
          for (const change of balanceChanges(tx, segment, this.#traffic)) {
            if (!watched.has(change.address) || change.amount >= 0n) continue;
            const key = `${change.address}|${change.coinType}`;
            const entry = outflow.get(key) ?? { address: change.address, coinType: change.coinType, amount: 0n };
            entry.amount -= change.amount;
            outflow.set(key, entry);
          }
        }
      }
      segment.deposits = [...outflow.values()].sort((a, b) => (a.address + a.coinType < b.address + b.coinType ? -1 : 1));
    }
    this.#segments.push(segment);
    for (let seq = segment.from; seq <= segment.to; seq++) {
      const txs = describe(this.#traffic, segment, seq);
      for (const tx of txs) {
        if (!touchesWatched(tx)) continue;
        for (const change of balanceChanges(tx, segment, this.#traffic)) {
          if (watched.has(change.address)) this.objects.addToAddressBalance(change.address, change.coinType, change.amount);
        }
      }
      this.#store.append(hash('generated', this.seed, seq, segment.index), txs.length + 1, this.timestampMs(seq));
    }
    this.emit('checkpoint', segment.to);
    return { from: segment.from, to: segment.to };
  }

  /** Ends the epoch: a last checkpoint (with the pending transactions) then locks and equivocations are cleared. */
  advanceEpoch(): number {
    this.makeCheckpoint({ endOfEpoch: true });
    this.#locks.clear();
    this.#equivocated.clear();
    return this.epoch;
  }

  /** Makes a checkpoint every `ms` (with pending transactions, or generated traffic if a plan is given). */
  startAutoCheckpoints(ms: number, traffic?: Partial<TrafficPlan>): void {
    this.stopAutoCheckpoints();
    this.#timer = setInterval(() => {
      if (traffic && this.#pending.length === 0) this.emitCheckpoints(1, traffic);
      else this.makeCheckpoint();
    }, ms);
    this.#timer.unref();
  }

  stopAutoCheckpoints(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Checkpoint `seq` in full (its transactions regenerated if it holds generated traffic). */
  checkpoint(seq: number): CheckpointRecord | undefined {
    const cached = this.#cache.get(seq);
    if (cached) return cached;
    const skeleton = this.#store.skeleton(seq);
    if (!skeleton) return undefined;
    // Transactions are made on first read: a summary-only read of generated traffic skips them.
    let transactions: TxRecord[] | undefined;
    const build = () => {
      const users = this.#materialized.get(seq) ?? this.#generated(seq, skeleton.epoch);
      const all = [this.#prologue(seq, skeleton.epoch), ...users];
      if (skeleton.endOfEpoch) all.push(this.#systemTx('end-of-epoch', seq, all.length, skeleton.epoch));
      return all;
    };
    const record: CheckpointRecord = Object.defineProperties(
      { sequenceNumber: seq, epoch: skeleton.epoch, totalNetworkTransactions: skeleton.totalNetworkTransactions, endOfEpoch: skeleton.endOfEpoch, timestampMs: this.timestampMs(seq) } as CheckpointRecord,
      {
        digest: { get: () => skeleton.digest, enumerable: true },
        previousDigest: { get: () => skeleton.previousDigest, enumerable: true },
        contentDigest: { get: () => skeleton.contentDigest, enumerable: true },
        transactions: { get: () => (transactions ??= build()), enumerable: true },
      },
    );
    this.#cache.set(seq, record);
    if (this.#cache.size > CACHE_SIZE) this.#cache.delete(this.#cache.keys().next().value!);
    return record;
  }

  findCheckpoint(digest: string): number | undefined {
    return this.#store.find(digest);
  }

  epochInfo(epoch: number): { first: number; last?: number } | undefined {
    return this.#store.epochRange(epoch);
  }

  #generated(seq: number, epoch: number): TxRecord[] {
    const segment = this.#segmentOf(seq);
    if (!segment) return [];
    return describe(this.#traffic, segment, seq).map((tx, i) => synthesize(tx, segment, this.#traffic, seq, i + 1, epoch));
  }

  #segmentOf(seq: number): Segment | undefined {
    let lo = 0;
    let hi = this.#segments.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const segment = this.#segments[mid]!;
      if (seq < segment.from) hi = mid - 1;
      else if (seq > segment.to) lo = mid + 1;
      else return segment;
    }
    return undefined;
  }

  #prologue(seq: number, epoch: number): TxRecord {
    return this.#systemTx('prologue', seq, 0, epoch);
  }

  #systemTx(kind: 'prologue' | 'end-of-epoch', seq: number, index: number, epoch: number): TxRecord {
    return systemTransaction(kind, () => positionalDigest(this.seed, seq, index), seq, epoch, this.timestampMs(seq));
  }

  // ---- transactions ----------------------------------------------------------------------

  /** A transaction by digest: executed ones (in a checkpoint or pending) and generated ones. */
  transaction(digest: string): PlacedTx | undefined {
    const executed = this.#executed.get(digest);
    if (executed) return executed;
    const position = decodePosition(digest);
    if (!position || position.checkpoint > this.height) return undefined;
    const checkpoint = this.checkpoint(position.checkpoint)!;
    const tx = checkpoint.transactions[position.index];
    if (tx?.digest !== digest) return undefined;
    return { tx, checkpoint: checkpoint.sequenceNumber, index: position.index, timestampMs: checkpoint.timestampMs };
  }

  #view(): ChainView {
    return {
      chainId: this.chainId,
      epoch: this.epoch,
      referenceGasPrice: this.referenceGasPrice,
      objects: this.objects,
      packages: new Set(this.packages),
      lockHolder: (objectId, version) => this.#locks.get(`${objectId}@${version}`),
      equivocated: (objectId) => this.#equivocated.get(objectId),
    };
  }

  /** Executes a signed transaction (or returns its earlier result: resubmission is idempotent). */
  execute(bytes: Uint8Array, signatures: Uint8Array[]): Promise<PlacedTx> {
    const run = async () => {
      const { digest } = parseTransaction(bytes);
      const earlier = this.#executed.get(digest);
      if (earlier) return earlier;
      let admitted;
      try {
        admitted = await admit(bytes, signatures, this.#view());
      } catch (error) {
        if (error instanceof Equivocation && !this.#equivocated.has(error.objectId)) {
          this.#equivocated.set(error.objectId, { version: error.version, digests: error.digests });
        }
        throw error;
      }
      const outcome = execute(admitted, this.epoch);
      for (const used of outcome.used) this.#locks.set(`${used.objectId}@${used.version}`, digest);
      for (const coin of outcome.writes) this.objects.put(coin);
      for (const gone of outcome.deletes) this.objects.delete(gone.objectId, gone.version);
      const placed: PlacedTx = { tx: outcome.record };
      this.#pending.push(placed);
      this.#executed.set(digest, placed);
      return placed;
    };
    const result = this.#queue.then(run, run);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  /** A dry run on the current state: the same checks but signatures and locks, nothing applied. */
  async simulate(bytes: Uint8Array, checks = true): Promise<TxRecord> {
    const admitted = await admit(bytes, null, this.#view(), checks);
    return execute(admitted, this.epoch).record;
  }

  // ---- ground truth ----------------------------------------------------------------------

  /** What an indexer of `packages` and `addresses` must have stored for checkpoints from..to. */
  truth(query: TruthQuery): Truth {
    return groundTruth(query, this.height, (seq) => this.checkpoint(seq)!);
  }
}

