import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { concat, fromRlp, keccak256, size, slice, toHex, toRlp, type Hex } from 'viem';
import { connectChain } from '../../../src/chain/evm/client.js';
import { fetchHeaders } from '../../../src/chain/evm/indexer/fetch.js';

/**
 * Real block headers of Dogechain, a fork of Polygon Edge (IBFT, no EIP-1559, hundreds of
 * bytes of POA extraData), recorded by its developers in github.com/dogechain-lab/dogechain:
 * - dogechain-mainnet.block-4673137.json: mainnet block 4673137, from
 *   consensus/ibft/header_hash_test.go at 552142f7e0b833d856c4f2019817f1d30cdc16e1 (a Go literal,
 *   transcribed into JSON-RPC form);
 * - dogechain.block-1887.json: block 1887 of a one-validator network, the JSON of
 *   jsonrpc/types_test.go at 71c31ce7da841065425f5d350aed1d49ccf29600.
 * Each is served by a tiny JSON-RPC node and read through the engine's own client
 * (connectChain, and the indexer's fetchHeaders): it must parse, extraData intact.
 */
type RecordedBlock = Record<'parentHash' | 'sha3Uncles' | 'miner' | 'stateRoot' | 'transactionsRoot' | 'receiptsRoot' | 'logsBloom' | 'difficulty' | 'number' | 'gasLimit' | 'gasUsed' | 'timestamp' | 'extraData' | 'mixHash' | 'nonce' | 'hash', Hex>;

const load = (file: string): RecordedBlock => (JSON.parse(readFileSync(new URL(`../../vectors/polygon-edge/${file}`, import.meta.url), 'utf8')) as { block: RecordedBlock }).block;

/** The validators of Dogechain's mainnet genesis (mainnet-genesis.json, chainID 2000, in the same repository). */
const MAINNET_VALIDATORS = ['0xd668bba507d0438ff22ee8ceb341323765669a24', '0x7175996ff9dcb8fbb83b68e2b88f1a029014555b', '0x92bb5d1a856e54157232b43fe1c9c7e89ee36abe', '0x64f2686e3ac7492c3b3f662d32ecb8b6bfa548fe'];

// committedSeals: a quorum of the validators (2F+1: 3 of 4) signed the block.
const vectors = [
  { name: 'Dogechain mainnet block 4673137', block: load('dogechain-mainnet.block-4673137.json'), extraBytes: 391, validators: MAINNET_VALIDATORS, committedSeals: 3 },
  { name: 'Dogechain block 1887 (one validator)', block: load('dogechain.block-1887.json'), extraBytes: 192, validators: ['0x32fc6db2b0500ff103a810b46daa26d35ce5172f'], committedSeals: 1 },
];

describe.each(vectors)('a recorded Polygon Edge-family block: $name', ({ block: recorded, extraBytes, validators, committedSeals }) => {
  it("parses through the engine's EVM client: number, hashes, miner, gas limit, no base fee, and the long extraData exactly", async () => {
    const node = await oneBlockNode(recorded);
    const conn = await connectChain(node.url);
    expect(conn.chainId).toBe(100);

    const number = BigInt(recorded.number);
    const block = await conn.publicClient.getBlock({ blockNumber: number });
    expect({
      number: block.number,
      hash: block.hash,
      parentHash: block.parentHash,
      miner: block.miner.toLowerCase(),
      gasLimit: block.gasLimit,
      gasUsed: block.gasUsed,
      timestamp: block.timestamp,
      mixHash: block.mixHash,
    }).toEqual({
      number,
      hash: recorded.hash,
      parentHash: recorded.parentHash,
      miner: recorded.miner.toLowerCase(),
      gasLimit: BigInt(recorded.gasLimit),
      gasUsed: BigInt(recorded.gasUsed),
      timestamp: BigInt(recorded.timestamp),
      mixHash: recorded.mixHash,
    });
    expect(block.extraData).toBe(recorded.extraData);
    expect(size(block.extraData)).toBe(extraBytes);
    expect(extraBytes).toBeGreaterThan(32);
    // Before London: no base fee, which is how `auto` gas picks a legacy gas price.
    expect(block.baseFeePerGas).toBeNull();

    expect((await conn.publicClient.getBlock({ blockHash: recorded.hash })).number).toBe(number);
    expect((await conn.publicClient.getBlock()).hash).toBe(recorded.hash);
    expect(node.calls).toEqual(expect.arrayContaining(['eth_chainId', 'eth_getBlockByNumber', 'eth_getBlockByHash']));
  });

  it('gives the indexer its block ref (fetchHeaders, over the batching client)', async () => {
    const node = await oneBlockNode(recorded);
    const conn = await connectChain(node.url);
    const number = BigInt(recorded.number);
    expect(await fetchHeaders(conn.batchClient, [number])).toEqual(
      new Map([[number, { number, hash: recorded.hash.toLowerCase(), parentHash: recorded.parentHash.toLowerCase(), timestamp: BigInt(recorded.timestamp) }]]),
    );
  });

  it('is what it claims: its extraData is an IBFT extra, and its hash is the IBFT header hash of the recorded fields', () => {
    const [vanity, rest] = [slice(recorded.extraData, 0, 32), slice(recorded.extraData, 32)];
    expect(vanity).toBe(`0x${'00'.repeat(32)}`);
    const [listed, proposerSeal, seals] = fromRlp(rest) as [Hex[], Hex, Hex[]];
    expect(listed).toEqual(validators);
    expect(listed).toContain(recorded.miner.toLowerCase());
    expect(size(proposerSeal)).toBe(65);
    expect(seals.map(size)).toEqual(Array(committedSeals).fill(65));

    expect(ibftHeaderHash(recorded)).toBe(recorded.hash);
    // Not Ethereum's header hash: code that recomputes block hashes would reject every block of such a chain.
    expect(keccak256(toRlp(headerFields(recorded, recorded.extraData)))).not.toBe(recorded.hash);
  });
});

/**
 * The IBFT header hash of Polygon Edge and its forks: the header up to extraData, with the seals taken out
 * of the extra (dogechain consensus/ibft/header_hash.go, istanbulHeaderHash, and putIbftExtraValidators).
 */
function ibftHeaderHash(block: RecordedBlock): Hex {
  const [validators] = fromRlp(slice(block.extraData, 32)) as [Hex[]];
  const unsealed = concat([slice(block.extraData, 0, 32), toRlp([validators, '0x', []])]);
  return keccak256(toRlp(headerFields(block, unsealed)));
}

function headerFields(block: RecordedBlock, extraData: Hex): Hex[] {
  const quantity = (value: Hex): Hex => (BigInt(value) === 0n ? '0x' : toHex(BigInt(value)));
  const { parentHash, sha3Uncles, miner, stateRoot, transactionsRoot, receiptsRoot, logsBloom } = block;
  return [parentHash, sha3Uncles, miner, stateRoot, transactionsRoot, receiptsRoot, logsBloom, ...[block.difficulty, block.number, block.gasLimit, block.gasUsed, block.timestamp].map(quantity), extraData];
}

/**
 * A JSON-RPC node over HTTP that knows one block (single calls and batches). Its chain id is 100 (0x64),
 * the Polygon Edge-like chain this project configures: a header does not carry its chain's id, so the
 * recorded block reads the same under it.
 */
async function oneBlockNode(block: RecordedBlock): Promise<{ url: string; calls: string[] }> {
  const calls: string[] = [];
  const answer = ({ id, method, params }: { id: unknown; method: string; params: unknown[] }) => {
    calls.push(method);
    const result =
      method === 'eth_chainId'
        ? '0x64'
        : method === 'eth_getBlockByNumber'
          ? params[0] === 'latest' || params[0] === block.number
            ? block
            : null
          : method === 'eth_getBlockByHash'
            ? String(params[0]).toLowerCase() === block.hash.toLowerCase()
              ? block
              : null
            : undefined;
    return result === undefined ? { jsonrpc: '2.0', id, error: { code: -32601, message: `${method} is not served here` } } : { jsonrpc: '2.0', id, result };
  };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      const request = JSON.parse(body) as Parameters<typeof answer>[0] | Parameters<typeof answer>[0][];
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(Array.isArray(request) ? request.map(answer) : answer(request)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls };
}
