/**
 * What "final" means, for the indexer and the relayer alike: a block is final once
 * `depth` blocks stand on top of it (b ≤ head − depth). The indexer journals
 * nothing at or below that line and halts on a reorg that crosses it; the relayer
 * calls an intent `confirmed` only when its block is there. A reorg of up to
 * `depth` blocks therefore never touches anything reported final.
 */
export function isFinal(block: bigint, head: bigint, depth: bigint): boolean {
  return block <= finalizedBlock(head, depth);
}

/** The highest final block for a head (below 0 while the chain is shorter than the depth). */
export function finalizedBlock(head: bigint, depth: bigint): bigint {
  return head - depth;
}
