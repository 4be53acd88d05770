import { describe, expect, it, onTestFinished } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { createPublicClient, createTestClient, createWalletClient, encodeFunctionData, http, keccak256, toHex, type Address, type Chain, type Hex } from 'viem';
import { foundry } from 'viem/chains';
import { mnemonicToAccount } from 'viem/accounts';
import { startAnvil } from '../../src/chain/evm/anvil.js';
import { readDeployments } from '../../src/chain/evm/deployments.js';
import { createOutbox } from '../../src/core/relayer/outbox.js';
import { inTransaction } from '../../src/db/transaction.js';
import { embeddedPostgresUrl } from '../../src/db/embedded.js';
import { freePort } from '../../src/runtime/ports.js';
import { packageRoot } from '../../src/runtime/paths.js';
import { blockProofCredentialVaultAbi } from '../../contracts/artifacts/BlockProofCredentialVault.js';
import { testLedgerAbi } from '../../contracts/artifacts/TestLedger.js';
import { ledgerIntents } from '../app/index.js';
import { CLI_WITH_TS_CONFIG, RunningCli, isAlive, runCli, scratchDir } from '../harness/cli.js';
import { createEmptyDatabase } from '../harness/db.js';
import { connectTestChain } from '../harness/evm.js';
import { until } from '../harness/until.js';

const MNEMONIC = 'test test test test test test test test test test test junk';
/** The vault's deployer and admin on chain 31337, registered there as an institution; it signs there. */
const DEV_0 = mnemonicToAccount(MNEMONIC, { addressIndex: 0 });
/** The relayer's signer on chain 100 (test/app/two-chains.config.ts). */
const DEV_1 = mnemonicToAccount(MNEMONIC, { addressIndex: 1 });
/** A second institution on 31337 that signs its own transactions (no relayer's nonces involved). */
const DEV_2 = mnemonicToAccount(MNEMONIC, { addressIndex: 2 });
const A = 'evm:31337';
const B = 'evm:100';
const ledgerKey = (label: string): Hex => keccak256(toHex(label));

/**
 * One `ledgersync start` process for a deployment of two chains
 * (test/app/two-chains.config.ts): BlockProof on anvil 31337 (EIP-1559,
 * finality 2) and the neutral test app on anvil 100 (`--hardfork berlin`, legacy
 * gas, finality 4). The chains mine only when told (or on a transaction), so a
 * test decides exactly how deep every block is.
 */
describe('one process, two chains', () => {
  it('indexes and relays on both chains at once, each with its own gas, finality and checkpoint; a reorg on one leaves the other untouched', async () => {
    const a = await privateChain({});
    const b = await privateChain({ chainId: 100, hardfork: 'berlin' });
    expect((await b.publicClient.getBlock()).baseFeePerGas ?? null).toBeNull();
    const database = await createEmptyDatabase();
    onTestFinished(() => database.drop());
    const cwd = scratchDir();
    const port = await freePort();
    const deploymentsFile = join(cwd, 'deployments.json');
    const cli = {
      cwd,
      script: CLI_WITH_TS_CONFIG,
      env: {
        DATABASE_URL: database.url,
        LEDGERSYNC_CONFIG: join(packageRoot, 'test', 'app', 'two-chains.config.ts'),
        RPC_URL_A: a.rpcUrl,
        WS_URL_A: a.wsUrl,
        RPC_URL_B: b.rpcUrl,
        WS_URL_B: b.wsUrl,
        DEPLOYMENTS_FILE: deploymentsFile,
        PORT: String(port),
        LOG_LEVEL: 'warn',
        RELAYER_POLL_INTERVAL_MS: '100',
        INDEXER_POLL_INTERVAL_MS: '100',
      },
    };

    // Each app's contracts on its own chain, from the one configuration.
    const deployed = await runCli(['deploy'], cli);
    expect(deployed.code, deployed.stderr).toBe(0);
    expect(deployed.stdout).toMatch(/^BlockProofCredentialVault deployed at 0x[0-9a-fA-F]{40} \(chain evm:31337, block \d+\)$/m);
    expect(deployed.stdout).toMatch(/^TestLedger deployed at 0x[0-9a-fA-F]{40} \(chain evm:100, block \d+\)$/m);
    const deployments = readDeployments(deploymentsFile);
    const vault = deployments[A]!.BlockProofCredentialVault!.address;
    const ledger = deployments[B]!.TestLedger!.address;
    expect(deployments[A]!.TestLedger).toBeUndefined();
    expect(deployments[B]!.BlockProofCredentialVault).toBeUndefined();

    const server = new RunningCli(['start'], cli);
    a.startMining();
    b.startMining();
    const base = `http://127.0.0.1:${port}`;
    await server.waitForReady(`${base}/ready`);
    const ready = { checks: await server.readyChecks(`${base}/ready`) };
    expect(Object.keys(ready.checks).sort()).toEqual(['chain evm:100', 'chain evm:31337', 'database', 'indexer evm:100', 'indexer evm:31337']);
    expect(ready.checks['chain evm:100']).toMatchObject({ ok: true, chain: B });
    expect(ready.checks['chain evm:31337']).toMatchObject({ ok: true, chain: A });
    expect(ready.checks['indexer evm:100']!.ok && ready.checks['indexer evm:31337']!.ok).toBe(true);

    const pool = new pg.Pool({ connectionString: database.url, max: 2 });
    pool.on('error', () => {});
    onTestFinished(() => pool.end());
    const query = async <R extends pg.QueryResultRow>(sql: string, params: unknown[] = []) => (await pool.query<R>(sql, params)).rows;
    const checkpoint = async (chain: string) => (await query<{ block_number: string; block_hash: string }>('select block_number::text, block_hash from indexer_checkpoints where chain = $1', [chain]))[0];
    type IntentRow = { state: string; block_number: string; reorgs: number };
    const intent = async (where: { id: string } | { key: string }) =>
      (await query<IntentRow>('select state, block_number::text, reorgs from relayer_intents where ' + ('id' in where ? 'id = $1' : 'idempotency_key = $1'), ['id' in where ? where.id : where.key]))[0];

    // Chain 31337: BlockProof over HTTP, with API keys.
    const keyFor = async (...scope: string[]) => {
      const created = await runCli(['api-key', 'create', ...scope], cli);
      expect(created.code, created.stderr).toBe(0);
      return created.stdout.match(/(lsk_\S+)/)![1]!;
    };
    const admin = { authorization: `Bearer ${await keyFor('--admin')}` };
    const registrar = { authorization: `Bearer ${await keyFor('--institution', DEV_0.address)}` };
    const api = async (path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}) => {
      const res = await fetch(`${base}${path}`, {
        method: init.method ?? 'GET',
        headers: { ...(init.body ? { 'content-type': 'application/json' } : {}), ...init.headers },
        ...(init.body ? { body: JSON.stringify(init.body) } : {}),
      });
      return { status: res.status, location: res.headers.get('location'), body: (await res.json()) as Record<string, unknown> };
    };
    const confirmedOverHttp = (location: string) =>
      until(async () => {
        const { body } = await api(location, { headers: admin });
        expect(body.state).not.toBe('failed');
        return body.state === 'confirmed' && body;
      }, `${location} to confirm`, 60_000, 100);
    const issue = async (label: string) => {
      const res = await api('/api/credentials/issue', {
        method: 'POST',
        body: { student: '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC', document: Buffer.from(`%PDF-1.7 ${label}`).toString('base64'), metadataURI: `ipfs://${label}` },
        headers: { ...registrar, 'idempotency-key': label },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      return res.location!;
    };
    for (const [account, name] of [[DEV_0, 'Universidad de Dos Cadenas'], [DEV_2, 'Instituto Efímero']] as const) {
      const registration = await api('/api/institutions', { method: 'POST', body: { address: account.address, name }, headers: admin });
      expect(registration.status).toBe(202);
      await confirmedOverHttp(registration.location!);
    }

    // Chain 100: the test app has no routes; the application submits its intents through the outbox, into the same database.
    const evmB = await connectTestChain(b.rpcUrl, { deploymentsFile });
    const outbox = createOutbox({ chains: [{ key: B, codec: evmB.codec, signers: [{ address: DEV_1.address.toLowerCase(), roles: ['default'] }] }], kinds: ledgerIntents(B) });
    const writeOnB = (labels: string[], value = 7n) =>
      inTransaction(pool, async (client) => {
        for (const label of labels) await outbox.submit(client, { idempotencyKey: label, kind: 'ledger.write', functionName: 'write', args: [ledgerKey(label), value] });
      });
    const ledgerLabels = Array.from({ length: 5 }, (_, i) => `ledger-${i}`);
    await writeOnB(ledgerLabels);
    const issued = await Promise.all(['diploma-1', 'diploma-2'].map(issue));
    const credentialIds = [];
    for (const location of issued) {
      const body = await confirmedOverHttp(location);
      credentialIds.push((body.events as Array<{ name: string; args: { id: string } }>).find((e) => e.name === 'CredentialIssued')!.args.id);
    }
    await until(async () => (await query(`select 1 from relayer_intents where chain = $1 and state <> 'confirmed'`, [B])).length === 0, 'the ledger intents to confirm', 60_000, 100);

    // Both indexed into their projections.
    for (const id of credentialIds) await until(async () => (await api(`/api/credentials/${id}`)).status === 200, `credential ${id} to be indexed`, 30_000, 100);
    const entries = await until(async () => {
      const rows = await query<{ key: string; value: string; writer: string }>('select key, value::text, writer from ledger_entries where chain = $1 order by key', [B]);
      return rows.length === ledgerLabels.length && rows;
    }, 'the ledger entries on chain 100');
    expect(entries).toEqual(ledgerLabels.map((l) => ({ key: ledgerKey(l), value: '7', writer: DEV_1.address.toLowerCase() })).sort((x, y) => x.key.localeCompare(y.key)));
    expect(await query('select 1 from ledger_entries where chain <> $1', [B])).toEqual([]);
    expect(await query('select 1 from credentials where chain <> $1', [A])).toEqual([]);

    // On chain: type-0 transactions signed for chain 100 there, type-2 for 31337 here.
    const sent = await query<{ id: Hex; chain: string; status: string }>("select id, chain, status from relayer_transactions where status = 'mined'");
    expect(sent.filter((t) => t.chain === A)).toHaveLength(4);
    expect(sent.filter((t) => t.chain === B)).toHaveLength(5);
    for (const t of sent) {
      const onChain = await (t.chain === A ? a : b).publicClient.getTransaction({ hash: t.id });
      expect({ chain: t.chain, type: onChain.type, typeHex: onChain.typeHex, chainId: onChain.chainId }).toEqual(
        t.chain === A ? { chain: A, type: 'eip1559', typeHex: '0x2', chainId: 31337 } : { chain: B, type: 'legacy', typeHex: '0x0', chainId: 100 },
      );
    }

    // Each chain's checkpoint follows its own chain.
    const before = { a: BigInt((await checkpoint(A))!.block_number), b: BigInt((await checkpoint(B))!.block_number) };
    await until(async () => BigInt((await checkpoint(A))!.block_number) > before.a + 3n && BigInt((await checkpoint(B))!.block_number) > before.b + 3n, 'both checkpoints to advance');

    // Finality, per chain: the chains now mine only on a transaction or when told.
    await a.stopMining();
    await b.stopMining();
    const lateA = await issue('diploma-late');
    await writeOnB(['ledger-late']);
    const included = async (where: { id: string } | { key: string }) =>
      until(async () => {
        const row = await intent(where);
        return row?.state === 'included' && row;
      }, `${JSON.stringify(where)} to be included`);
    const lateAId = lateA.split('/').pop()!;
    const inA = await included({ id: lateAId });
    const inB = await included({ key: 'ledger-late' });
    // One block short of each chain's finality: 2 on 31337, 4 on 100.
    await a.mineTo(BigInt(inA.block_number) + 1n);
    await b.mineTo(BigInt(inB.block_number) + 3n);
    await until(async () => BigInt((await checkpoint(A))!.block_number) === (await a.publicClient.getBlockNumber()), 'the indexer of 31337 to reach the head');
    await until(async () => BigInt((await checkpoint(B))!.block_number) === (await b.publicClient.getBlockNumber()), 'the indexer of 100 to reach the head');
    await new Promise((r) => setTimeout(r, 1_500));
    expect([(await intent({ id: lateAId }))!.state, (await intent({ key: 'ledger-late' }))!.state]).toEqual(['included', 'included']);
    // Chain 31337 reaches its depth: its intent confirms; chain 100's, three blocks deep, waits for its fourth.
    await a.mine(1);
    await until(async () => (await intent({ id: lateAId }))!.state === 'confirmed', 'the 31337 intent to confirm at depth 2');
    await new Promise((r) => setTimeout(r, 1_000));
    expect((await intent({ key: 'ledger-late' }))!.state).toBe('included');
    await b.mine(1);
    await until(async () => (await intent({ key: 'ledger-late' }))!.state === 'confirmed', 'the chain 100 intent to confirm at depth 4');

    // A reorg on chain 100 (two blocks, within its finality of 4): one holds a relayed intent, the other a write from outside.
    const snapshotA = await snapshotOf(query, A);
    await writeOnB(['ledger-reorged']);
    const reorgedIntent = await included({ key: 'ledger-reorged' });
    const walletB = createWalletClient({ account: DEV_0, chain: b.chain, transport: http(b.rpcUrl) });
    const doomedHash = await walletB.writeContract({ address: ledger, abi: testLedgerAbi, functionName: 'write', args: [ledgerKey('doomed'), 13n], type: 'legacy' });
    const doomedBlock = (await b.publicClient.waitForTransactionReceipt({ hash: doomedHash, pollingInterval: 50 })).blockNumber;
    expect(doomedBlock).toBe(BigInt(reorgedIntent.block_number) + 1n);
    await until(async () => (await query('select 1 from ledger_entries where chain = $1 and key = $2', [B, ledgerKey('doomed')])).length === 1, "'doomed' to be indexed");
    // A legacy transaction: without a gas price anvil fills in EIP-1559 fees, which berlin refuses.
    await b.reorg(2, [{ from: DEV_0.address, to: ledger, gas: toHex(200_000), gasPrice: toHex(await b.publicClient.getGasPrice()), data: encodeFunctionData({ abi: testLedgerAbi, functionName: 'write', args: [ledgerKey('reborn'), 21n] }) }]);
    expect(await b.publicClient.getTransactionReceipt({ hash: doomedHash }).catch(() => null)).toBeNull();

    // Undone on chain 100: the write that is gone is gone from the projection, the new history is in, and the relayed intent is sent again.
    await until(async () => (await query('select 1 from ledger_entries where chain = $1 and key = $2', [B, ledgerKey('reborn')])).length === 1, "'reborn' to be indexed");
    expect(await query('select 1 from ledger_entries where chain = $1 and key = $2', [B, ledgerKey('doomed')])).toEqual([]);
    expect(await query('select 1 from indexer_events where chain = $1 and transaction_id = $2', [B, doomedHash.toLowerCase()])).toEqual([]);
    await until(async () => (await intent({ key: 'ledger-reorged' }))!.reorgs === 1, 'the relayer to see its intent reorged out');
    const again = await included({ key: 'ledger-reorged' });
    await b.mineTo(BigInt(again.block_number) + 4n);
    await until(async () => (await intent({ key: 'ledger-reorged' }))!.state === 'confirmed', 'the reorged intent to confirm again');
    expect(await b.writtenEvents(ledger, 'ledger-reorged')).toBe(1);
    await until(async () => (await checkpoint(B))!.block_hash === (await b.publicClient.getBlock()).hash, 'the chain 100 checkpoint on the new canonical head');
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(Number(metrics.match(/^ledgersync_indexer_reorgs_total\{chain="evm:100"\} (\d+)$/m)?.[1])).toBeGreaterThanOrEqual(1);
    expect(metrics).not.toMatch(/^ledgersync_indexer_reorgs_total\{chain="evm:31337"\} [1-9]/m);

    // Untouched on chain 31337: its checkpoint, events, projections and intents are exactly as they were.
    expect(await snapshotOf(query, A)).toEqual(snapshotA);

    // And the other way round: a reorg on 31337 (one block, within its finality of 2) leaves chain 100 as it was.
    const snapshotB = await snapshotOf(query, B);
    const walletA = createWalletClient({ account: DEV_2, chain: a.chain, transport: http(a.rpcUrl) });
    const fleeting = { student: DEV_0.address, fingerprint: ledgerKey('fleeting'), metadataURI: 'ipfs://fleeting', expiresAt: 0n };
    const fleetingHash = await walletA.writeContract({ address: vault, abi: blockProofCredentialVaultAbi, functionName: 'issueCredential', args: [fleeting] });
    await a.publicClient.waitForTransactionReceipt({ hash: fleetingHash, pollingInterval: 50 });
    await until(async () => (await query('select 1 from credentials where chain = $1 and metadata_uri = $2', [A, 'ipfs://fleeting'])).length === 1, 'the fleeting credential to be indexed');
    await a.reorg(1, []);
    expect(await a.publicClient.getTransactionReceipt({ hash: fleetingHash }).catch(() => null)).toBeNull();
    // The indexer learns of the new history from the block built on it.
    await a.mine(1);
    await until(async () => (await query('select 1 from credentials where chain = $1 and metadata_uri = $2', [A, 'ipfs://fleeting'])).length === 0, 'the fleeting credential to be undone');
    expect(await snapshotOf(query, B)).toEqual(snapshotB);
    await server.readyChecks(`${base}/ready`);
    expect(await server.stop('SIGINT')).toBe(0);
  }, 240_000);

  it('starts one anvil per embedded chain (two chain ids, two ports), indexes both, and stops both on Ctrl-C', async () => {
    const cwd = scratchDir();
    const home = join(cwd, '.ledgersync');
    const [port, pgPort, anvilPortA, anvilPortB] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const env = {
      LEDGERSYNC_HOME: home,
      LEDGERSYNC_CONFIG: join(packageRoot, 'test', 'app', 'two-embedded.config.ts'),
      PORT: String(port),
      EMBEDDED_POSTGRES_PORT: String(pgPort),
      ANVIL_PORT: String(anvilPortA),
      ANVIL_PORT_B: String(anvilPortB),
      LOG_LEVEL: 'warn',
    };
    const server = new RunningCli(['start'], { cwd, env, script: CLI_WITH_TS_CONFIG });
    await server.waitForReady(`http://127.0.0.1:${port}/ready`, 90_000);
    const ready = { checks: await server.readyChecks(`http://127.0.0.1:${port}/ready`) };
    expect(Object.keys(ready.checks).sort()).toEqual(['chain evm:100', 'chain evm:31337', 'database', 'indexer evm:100', 'indexer evm:31337']);
    expect(Object.values(ready.checks).every((c) => c.ok)).toBe(true);

    // Two anvils, each on its own port with its own chain id; 100 without a base fee (berlin).
    const chainA = createPublicClient({ transport: http(`http://127.0.0.1:${anvilPortA}`), cacheTime: 0 });
    const chainB = createPublicClient({ transport: http(`http://127.0.0.1:${anvilPortB}`), cacheTime: 0 });
    expect([await chainA.getChainId(), await chainB.getChainId()]).toEqual([31337, 100]);
    expect((await chainA.getBlock()).baseFeePerGas).toBeGreaterThan(0n);
    expect((await chainB.getBlock()).baseFeePerGas ?? null).toBeNull();
    // Each app's contracts deployed on its own chain at first start.
    const deployments = readDeployments(join(home, 'deployments.json'));
    expect(await chainA.getCode({ address: deployments[A]!.BlockProofCredentialVault!.address })).not.toBe('0x');
    expect(await chainB.getCode({ address: deployments[B]!.TestLedger!.address })).not.toBe('0x');

    // Both indexed, each checkpoint moving with its chain's blocks.
    const databaseUrl = embeddedPostgresUrl(join(home, 'postgres'), pgPort)!;
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    const checkpoints = async () =>
      Object.fromEntries((await client.query<{ chain: string; n: string }>('select chain, block_number::text as n from indexer_checkpoints order by chain')).rows.map((r) => [r.chain, BigInt(r.n)]));
    const first = await checkpoints();
    expect(Object.keys(first)).toEqual([B, A]);
    await until(async () => {
      const now = await checkpoints();
      return now[A]! > first[A]! && now[B]! > first[B]!;
    }, 'both checkpoints to advance', 20_000, 200);
    await client.end();

    const pids = servicePids(home);
    expect(new Set(pids).size).toBe(3);
    expect(pids.every(isAlive)).toBe(true);
    const heads = [await chainA.getBlockNumber(), await chainB.getBlockNumber()];
    expect(await server.stop('SIGINT')).toBe(0);
    expect(pids.filter(isAlive)).toEqual([]);
    expect(existsSync(join(home, 'ledgersync.pid'))).toBe(false);
    expect(existsSync(join(home, 'anvil', 'anvil.pid')) || existsSync(join(home, 'anvil', 'anvil-1.pid'))).toBe(false);
    await expect(chainA.getBlockNumber()).rejects.toThrow();
    await expect(chainB.getBlockNumber()).rejects.toThrow();

    // Started again: each chain comes back with its own history and contracts (nothing deployed again).
    const again = new RunningCli(['start'], { cwd, env, script: CLI_WITH_TS_CONFIG });
    await again.waitForReady(`http://127.0.0.1:${port}/ready`, 90_000);
    expect([await chainA.getChainId(), await chainB.getChainId()]).toEqual([31337, 100]);
    expect(await chainA.getBlockNumber()).toBeGreaterThanOrEqual(heads[0]!);
    expect(await chainB.getBlockNumber()).toBeGreaterThanOrEqual(heads[1]!);
    expect(readDeployments(join(home, 'deployments.json'))).toEqual(deployments);
    expect(await chainB.getCode({ address: deployments[B]!.TestLedger!.address })).not.toBe('0x');
    // Killed hard, it leaves both anvils and PostgreSQL orphaned; the next start stops all three.
    const orphans = servicePids(home);
    await again.kill();
    expect(orphans.every(isAlive)).toBe(true);
    const third = new RunningCli(['start'], { cwd, env, script: CLI_WITH_TS_CONFIG });
    await third.waitForReady(`http://127.0.0.1:${port}/ready`, 90_000);
    expect(orphans.filter(isAlive)).toEqual([]);
    const last = servicePids(home);
    expect(await third.stop('SIGINT')).toBe(0);
    expect(last.filter(isAlive)).toEqual([]);
  }, 240_000);
});

/** The pids of both embedded anvils and of PostgreSQL, from the files they are recorded in. */
function servicePids(home: string): number[] {
  const anvils = ['anvil.pid', 'anvil-1.pid'].map((f) => Number(readFileSync(join(home, 'anvil', f), 'utf8')));
  return [...anvils, Number(readFileSync(join(home, 'postgres', 'data', 'postmaster.pid'), 'utf8').split('\n')[0])];
}

/** A private anvil (automine: a block per transaction, and more only when told), with helpers to mine and reorganise it. */
async function privateChain(options: { chainId?: number; hardfork?: string }) {
  const anvil = await startAnvil({ port: await freePort(), keepStates: 128, ...options });
  onTestFinished(() => anvil.stop());
  const chain: Chain = { ...foundry, id: options.chainId ?? foundry.id };
  const transport = http(anvil.rpcUrl);
  const publicClient = createPublicClient({ chain, transport, cacheTime: 0 });
  const testClient = createTestClient({ chain, transport, mode: 'anvil' });
  let mining: Promise<void> | undefined;
  let on = false;
  const stopMining = async () => {
    on = false;
    await mining;
  };
  onTestFinished(stopMining);
  return {
    chain,
    rpcUrl: anvil.rpcUrl,
    wsUrl: anvil.wsUrl,
    publicClient,
    mine: (blocks: number) => testClient.mine({ blocks }),
    /** Mines until the head is `height`. */
    async mineTo(height: bigint) {
      const head = await publicClient.getBlockNumber();
      if (height > head) await testClient.mine({ blocks: Number(height - head) });
      expect(await publicClient.getBlockNumber()).toBe(height);
    },
    /** A block every 200 ms until stopMining(). */
    startMining() {
      on = true;
      mining = (async () => {
        while (on) {
          await testClient.mine({ blocks: 1 }).catch(() => {});
          await new Promise((r) => setTimeout(r, 200));
        }
      })();
    },
    stopMining,
    /** Replaces the last `depth` blocks with as many new ones, the first holding `transactions` (from unlocked dev accounts). */
    async reorg(depth: number, transactions: Array<Record<string, unknown>>) {
      await testClient.request({ method: 'anvil_reorg' as never, params: [depth, transactions.map((tx) => [tx, 0])] as never });
    },
    /** Written events on the canonical chain for a ledger label. */
    async writtenEvents(ledger: Address, label: string) {
      const logs = await publicClient.getContractEvents({ address: ledger, abi: testLedgerAbi, eventName: 'Written', args: { key: ledgerKey(label) }, fromBlock: 0n });
      return logs.length;
    },
  };
}

/** Everything the deployment holds for one chain: checkpoint, raw events, both apps' projections, intents. */
async function snapshotOf(query: <R extends pg.QueryResultRow>(sql: string, params?: unknown[]) => Promise<R[]>, chain: string) {
  return {
    checkpoint: await query('select block_number::text, block_hash, halted_reason from indexer_checkpoints where chain = $1', [chain]),
    events: await query('select block_number::text, block_hash, event_index, transaction_id from indexer_events where chain = $1 order by block_number, event_index', [chain]),
    credentials: await query('select * from credentials where chain = $1 order by 2', [chain]),
    institutions: await query('select * from institutions where chain = $1 order by 2', [chain]),
    ledger: await query('select * from ledger_entries where chain = $1 order by key', [chain]),
    intents: await query('select id::text, state, transaction_id, block_number::text, block_hash, reorgs from relayer_intents where chain = $1 order by id', [chain]),
  };
}
