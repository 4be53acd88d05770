/**
 * bench/balances: the payments app's two hot paths, each beside the limit measured in the same run.
 *
 * 1. The poller's relevance filter: which Sui transactions touch Confío's packages or one of
 *    1,000,000 users' addresses (the engine's Sui decoder with the app's filter: packages and
 *    address set), against a bare loop over the same transactions that only visits each one's
 *    sender and balance changes.
 *
 *   npm run bench:balances   (BENCH_USERS (1000000), BENCH_CHECKPOINTS (5000), BENCH_TX_PER_CHECKPOINT (20))
 */
import { cpus, totalmem } from 'node:os';
import { randomBytes } from 'node:crypto';
import { SuiGrpcClient, type GrpcTypes } from '@mysten/sui/grpc';
import { normalizeSuiAddress } from '@mysten/sui/utils';
import { startSuiSimulator } from '../src/chain/sui/simulator/index.js';
import { listCheckpoints } from '../src/chain/sui/indexer/checkpoints.js';
import { decodeCheckpoint, transactionFacts } from '../src/chain/sui/indexer/decode.js';
import { suiFilter } from '../src/chain/sui/indexer/filter.js';
import { suiSource } from '../src/engine/index.js';
import { addressSetName } from '../src/apps/payments/settings.js';
import { BenchRun } from './harness.js';

const USERS = Number(process.env.BENCH_USERS ?? 1_000_000);
const CHECKPOINTS = Number(process.env.BENCH_CHECKPOINTS ?? 5_000);
const TX_PER_CHECKPOINT = Number(process.env.BENCH_TX_PER_CHECKPOINT ?? 20);
const ROUNDS = 5;
const CHAIN = 'sui:localnet-sim';
const log = (line: string) => console.log(line);

const run = new BenchRun('bench-balances');
try {
  log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`);
  await relevanceFilter();
} finally {
  await run.end();
}

async function relevanceFilter(): Promise<void> {
  const sim = await startSuiSimulator({ seed: 13 });
  run.onEnd(() => sim.close());
  const { confio } = sim.ledger;
  // A thousand of the users are active in the traffic; the rest only make the set big.
  const active = Array.from({ length: 1000 }, () => randomAddress());
  sim.ledger.emitCheckpoints(CHECKPOINTS, {
    packages: [confio.packages.cusd, confio.packages.pay],
    addresses: active,
    relevantEvery: 10,
    transactionsPerCheckpoint: TX_PER_CHECKPOINT,
  });
  const client = new SuiGrpcClient({ network: 'localnet-sim', baseUrl: sim.url });
  const checkpoints: GrpcTypes.Checkpoint[] = [];
  for await (const checkpoint of listCheckpoints(client, 0n, BigInt(sim.ledger.height), () => false)) checkpoints.push(checkpoint);
  const transactions = checkpoints.reduce((n, c) => n + c.transactions.length, 0);

  const members = new Set(active);
  while (members.size < USERS) members.add(randomAddress());
  const source = suiSource({
    name: 'payments',
    chain: CHAIN,
    packages: [confio.packages.cusd, confio.packages.pay, confio.packages.p2pTrade],
    addressSet: addressSetName(CHAIN),
    startCheckpoint: 0n,
  });
  log(`${checkpoints.length} checkpoints, ${transactions} transactions; address set of ${members.size.toLocaleString('en')} users (${active.length} active)`);

  const filter = suiFilter(source, members);
  let kept = 0;
  const filtered = rounds(() => {
    kept = 0;
    for (const checkpoint of checkpoints) kept += new Set(decodeCheckpoint(CHAIN, checkpoint, [filter]).map((e) => e.transactionId)).size;
  });
  // The same filter on facts decoded beforehand: what the lookups in the set of a million cost alone.
  const facts = checkpoints.flatMap((c) => c.transactions.map(transactionFacts));
  let keptFromFacts = 0;
  const lookups = rounds(() => {
    keptFromFacts = 0;
    for (const tx of facts) if (filter.keep(tx)) keptFromFacts++;
  });
  let visited = 0;
  const bare = rounds(() => {
    visited = 0;
    for (const checkpoint of checkpoints) {
      for (const tx of checkpoint.transactions) {
        visited += (tx.transaction?.sender?.length ?? 0) > 0 ? 1 : 0;
        for (const change of tx.balanceChanges) visited += change.address ? 0 : 1;
      }
    }
  });
  const rate = (seconds: number) => Math.round(transactions / seconds).toLocaleString('en');
  log(`relevant: ${kept} of ${transactions} transactions kept (${keptFromFacts} from decoded facts; visited ${visited})`);
  log(
    `${'relevance filter'.padEnd(18)} ${rate(filtered)} transactions/s (median of ${ROUNDS}: ${(filtered * 1000).toFixed(1)} ms)` +
      `  | limit: bare loop ${rate(bare)} transactions/s (${(bare * 1000).toFixed(1)} ms)  | filter ÷ bare time ${(filtered / bare).toFixed(1)}`,
  );
  log(`${'  of which lookups'.padEnd(18)} ${rate(lookups)} transactions/s on facts decoded beforehand (${(lookups * 1000).toFixed(1)} ms): the rest is decoding`);
}

/** The median of ROUNDS timed runs of `work`, in seconds (after one warm-up run). */
function rounds(work: () => void): number {
  work();
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const started = performance.now();
    work();
    times.push((performance.now() - started) / 1000);
  }
  return times.sort((a, b) => a - b)[Math.floor(ROUNDS / 2)]!;
}

function randomAddress(): string {
  return normalizeSuiAddress(`0x${randomBytes(32).toString('hex')}`);
}
