import { hexToBytes, keccak256, type Hex } from 'viem';

/**
 * Whether a block's logsBloom may contain a log from `address` (false means
 * certainly not, so eth_getLogs can be skipped). The bloom sets three of its 2048
 * bits per address and topic, chosen by the first three byte pairs of the keccak.
 */
export function bloomMayContain(bloom: Hex, value: Hex): boolean {
  const bits = hexToBytes(bloom);
  if (bits.length !== 256) return true;
  const hash = hexToBytes(keccak256(value));
  for (let i = 0; i < 6; i += 2) {
    const bit = ((hash[i]! << 8) | hash[i + 1]!) & 2047;
    if ((bits[255 - (bit >> 3)]! & (1 << (bit & 7))) === 0) return false;
  }
  return true;
}

export function bloomMayContainAny(bloom: Hex | null | undefined, values: Hex[]): boolean {
  if (!bloom) return true;
  return values.some((value) => bloomMayContain(bloom, value));
}
