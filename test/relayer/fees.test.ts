import { describe, expect, it } from 'vitest';
import { bumpFees, type Fees } from '../../src/chain/evm/relayer/fees.js';

const gwei = (n: number) => BigInt(Math.round(n * 1e9));
const policy = { type: 'auto' as const, maxFeePerGas: gwei(100), bumpPercent: 15 };

describe('bumpFees', () => {
  it('raises every EIP-1559 fee by at least the bump, or to the market when that is higher', () => {
    const previous: Fees = { type: 'eip1559', maxFeePerGas: gwei(20), maxPriorityFeePerGas: gwei(2) };
    expect(bumpFees(previous, { type: 'eip1559', maxFeePerGas: gwei(10), maxPriorityFeePerGas: gwei(1) }, policy)).toEqual({
      type: 'eip1559',
      maxFeePerGas: gwei(23),
      maxPriorityFeePerGas: gwei(2.3),
    });
    expect(bumpFees(previous, { type: 'eip1559', maxFeePerGas: gwei(60), maxPriorityFeePerGas: gwei(5) }, policy)).toEqual({
      type: 'eip1559',
      maxFeePerGas: gwei(60),
      maxPriorityFeePerGas: gwei(5),
    });
  });

  it('raises a legacy gas price the same way', () => {
    expect(bumpFees({ type: 'legacy', gasPrice: gwei(10) }, { type: 'legacy', gasPrice: gwei(9) }, policy)).toEqual({ type: 'legacy', gasPrice: gwei(11.5) });
  });

  it('gives up rather than cross the ceiling', () => {
    expect(bumpFees({ type: 'eip1559', maxFeePerGas: gwei(90), maxPriorityFeePerGas: gwei(2) }, { type: 'eip1559', maxFeePerGas: gwei(1), maxPriorityFeePerGas: gwei(1) }, policy)).toBeUndefined();
    expect(bumpFees({ type: 'legacy', gasPrice: gwei(50) }, { type: 'legacy', gasPrice: gwei(101) }, policy)).toBeUndefined();
  });
});
