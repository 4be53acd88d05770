import { describe, expect, it } from 'vitest';
import { HttpRequestError, RpcRequestError, decodeAbiParameters, encodeAbiParameters, keccak256, toHex, type AbiParameter, type Hex } from 'viem';
import { parseRangeLimit } from '../../src/chain/evm/indexer/range-limit.js';
import { bloomMayContain } from '../../src/chain/evm/indexer/bloom.js';
import { AbiDataError, decodeData, toJson } from '../../src/chain/evm/indexer/decode.js';

const rpcError = (message: string, code = -32602) =>
  new RpcRequestError({ body: { method: 'eth_getLogs' }, error: { code, message }, url: 'http://node' });

describe('parseRangeLimit', () => {
  it.each([
    ['Log response size exceeded. You can make eth_getLogs requests with up to a 2000 block range. Based on your parameters, this block range should work: [0x64, 0x1f4]', { suggestedTo: 500n }],
    ['eth_getLogs is limited to a 10000 range', { maxSpan: 10000n, suggestedTo: 100n + 9999n }],
    ['exceed maximum block range: 5000', { maxSpan: 5000n, suggestedTo: 100n + 4999n }],
    ['query returned more than 10000 results', {}],
    ['block range is too wide', {}],
    ['Log response size exceeded.', {}],
  ])('understands %s', (message, expected) => {
    expect(parseRangeLimit(rpcError(message), 100n)).toEqual(expected);
  });

  it.each(['execution reverted', 'Too Many Requests', 'internal error (injected)'])('leaves other errors alone: %s', (message) => {
    expect(parseRangeLimit(rpcError(message, -32000), 100n)).toBeUndefined();
    expect(parseRangeLimit(new HttpRequestError({ url: 'http://node', status: 500, details: message }), 100n)).toBeUndefined();
  });
});

describe('bloomMayContain', () => {
  /** A bloom with the three bits of each value set, as a node computes it. */
  function bloomOf(values: Hex[]): Hex {
    const bytes = new Uint8Array(256);
    for (const value of values) {
      const hash = keccak256(value, 'bytes');
      for (let i = 0; i < 6; i += 2) {
        const bit = ((hash[i]! << 8) | hash[i + 1]!) & 2047;
        bytes[255 - (bit >> 3)]! |= 1 << (bit & 7);
      }
    }
    return toHex(bytes);
  }

  it('finds what was added and (almost always) rejects what was not', () => {
    const ours = '0x5fbdb2315678afecb367f032d93f642f64180aa3';
    const bloom = bloomOf([ours, '0x0000000000000000000000000000000000000001']);
    expect(bloomMayContain(bloom, ours)).toBe(true);
    const strangers = Array.from({ length: 200 }, (_, i) => keccak256(toHex(i)).slice(0, 42) as Hex);
    expect(strangers.filter((s) => bloomMayContain(bloom, s)).length).toBeLessThan(3);
  });

  it('treats an empty bloom as containing nothing, and a malformed one as maybe anything', () => {
    expect(bloomMayContain(toHex(new Uint8Array(256)), '0x5fbdb2315678afecb367f032d93f642f64180aa3')).toBe(false);
    expect(bloomMayContain('0x00', '0x5fbdb2315678afecb367f032d93f642f64180aa3')).toBe(true);
  });
});

describe('decodeData', () => {
  const params: AbiParameter[] = [
    { name: 'small', type: 'uint8' },
    { name: 'time', type: 'uint64' },
    { name: 'big', type: 'uint256' },
    { name: 'negative', type: 'int256' },
    { name: 'tiny', type: 'int8' },
    { name: 'who', type: 'address' },
    { name: 'yes', type: 'bool' },
    { name: 'no', type: 'bool' },
    { name: 'one', type: 'bytes1' },
    { name: 'word', type: 'bytes32' },
    { name: 'label', type: 'string' },
    { name: 'empty', type: 'string' },
    { name: 'blob', type: 'bytes' },
    { name: 'none', type: 'bytes' },
  ];
  const values = [
    255,
    2n ** 64n - 1n,
    2n ** 256n - 1n,
    -(2n ** 255n),
    -1,
    '0xabcdef0000000000000000000000000000000001',
    true,
    false,
    '0x7f',
    keccak256('0x01'),
    'diplôme ✓ — 学位 '.repeat(5),
    '',
    toHex(new Uint8Array(77).map((_, i) => i * 3)),
    '0x',
  ] as const;

  it("reads every elementary type exactly as viem's decoder (through toJson) does", () => {
    const data = encodeAbiParameters(params, values as unknown as readonly unknown[]);
    const viem = decodeAbiParameters(params, data).map((value, i) => toJson(value, params[i]));
    expect(decodeData(params, data)).toEqual(viem);
    expect(decodeData(params, data.toUpperCase().replace('0X', '0x') as Hex)).toEqual(viem);
    expect(viem[0]).toBe('255'); // small integers are decimal strings too, like big ones
  });

  it('rejects data that ends early or points past its end, by name', () => {
    const data = encodeAbiParameters(params, values as unknown as readonly unknown[]);
    expect(() => decodeData(params, data.slice(0, 2 + 64 * 5) as Hex)).toThrow(AbiDataError);
    const lying = encodeAbiParameters([{ type: 'uint256' }], [2n ** 70n]);
    expect(() => decodeData([{ name: 'label', type: 'string' }], lying)).toThrow(/past the end/);
    expect(() => decodeData(params, data.slice(0, -64) as Hex)).toThrow(AbiDataError);
  });
});

describe('toJson', () => {
  it('turns integers into decimal strings and lower-cases addresses only', () => {
    const inputs = [
      { name: 'id', type: 'uint256' },
      { name: 'who', type: 'address' },
      { name: 'label', type: 'string' },
      { name: 'many', type: 'address[]' },
    ] as const;
    const values: Record<string, unknown> = { id: 2n ** 200n, who: '0xABCDEF0000000000000000000000000000000001', label: '0xNotAnAddress', many: ['0xAB00000000000000000000000000000000000002'] };
    expect(Object.fromEntries(inputs.map((p) => [p.name, toJson(values[p.name], p)]))).toEqual({
      id: (2n ** 200n).toString(),
      who: '0xabcdef0000000000000000000000000000000001',
      label: '0xNotAnAddress',
      many: ['0xab00000000000000000000000000000000000002'],
    });
  });
});
