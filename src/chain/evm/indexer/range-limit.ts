import { BaseError } from 'viem';

/**
 * Providers cap eth_getLogs by block span or by result count, each with its own
 * wording. Returns how to retry when `error` is such a refusal, else undefined.
 * `suggestedTo` is set when the provider names a range that will work.
 */
export function parseRangeLimit(error: unknown, from: bigint): { suggestedTo?: bigint; maxSpan?: bigint } | undefined {
  const message = messagesOf(error);
  // Alchemy: "… this block range should work: [0x1, 0x1f4]"
  const suggested = /block range should work: \[(0x[0-9a-f]+), (0x[0-9a-f]+)\]/i.exec(message);
  if (suggested) return { suggestedTo: BigInt(suggested[2]!) };
  // QuickNode "limited to a 10000 range", Alchemy "up to a 2000 block range", others "maximum block range: 5000"
  const span = /(?:limited to a|up to a|maximum (?:block )?range(?: is|:)?|max(?:imum)? range of|range limit of|exceeds? (?:the )?(?:max(?:imum)? )?range(?: of)?) ?(\d+)/i.exec(message);
  if (span && /range/i.test(message)) {
    const maxSpan = BigInt(span[1]!);
    return { maxSpan, suggestedTo: from + maxSpan - 1n };
  }
  const generic = [
    /query returned more than \d+ results/i, // Infura, geth-style
    /log response size exceeded/i,
    /block range (?:is )?too (?:wide|large|big)/i,
    /range (?:is )?too large/i,
    /too many (?:results|logs|blocks)/i,
    /response (?:size )?(?:is )?too (?:large|big)/i,
    /exceed(?:s|ed)? .*(?:block range|results limit|max results)/i,
    /requested too many blocks/i,
    // viem's own cap on a response (10 MB by default): the range held too many logs.
    /response body exceeded the size limit/i,
  ];
  return generic.some((pattern) => pattern.test(message)) ? {} : undefined;
}

/** Every message in a viem error chain (the RPC's own words are in `details`). */
function messagesOf(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current && depth < 10; depth++) {
    if (current instanceof BaseError) parts.push(current.details, current.shortMessage);
    else if (current instanceof Error) parts.push(current.message);
    current = (current as { cause?: unknown }).cause;
  }
  return parts.join(' | ');
}
