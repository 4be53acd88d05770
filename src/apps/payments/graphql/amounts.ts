import { CUSD } from '../settings.js';
import { badInput } from './errors.js';

/** The tokens the API speaks of, by symbol: their decimals. */
const DECIMALS: Record<string, number> = { [CUSD.symbol]: CUSD.decimals };

/** uint256's range: anything above is no amount any chain will move. */
const MAX_AMOUNT = 2n ** 256n - 1n;

/** The token's decimals, or BAD_USER_INPUT for a token the app keeps no balance of. */
export function requireToken(token: string): number {
  const decimals = DECIMALS[token];
  if (decimals === undefined) throw badInput(`unknown token ${JSON.stringify(token.slice(0, 40))}; known: ${Object.keys(DECIMALS).join(', ')}`);
  return decimals;
}

/** Base units → whole units, with at least two decimals ("5000000" cUSD → "5.00", 5123456 → "5.123456"); null for an unknown token. */
export function formatAmount(amount: bigint, token: string): string | null {
  const decimals = DECIMALS[token];
  if (decimals === undefined) return null;
  const unit = 10n ** BigInt(decimals);
  const fraction = (amount % unit).toString().padStart(decimals, '0').replace(/0+$/, '');
  return `${amount / unit}.${fraction.padEnd(Math.min(2, decimals), '0')}`;
}

/**
 * The amount of a send, given once: in base units ("5000000") or in whole
 * units ("5.00"); a positive integer within uint256, or BAD_USER_INPUT.
 */
export function parseSendAmount(input: { amount?: string | null; amountFormatted?: string | null }, token: string): bigint {
  const decimals = requireToken(token);
  const given = [input.amount, input.amountFormatted].filter((v) => v !== undefined && v !== null);
  if (given.length !== 1) throw badInput('give the amount once: amount (base units) or amountFormatted (whole units)');
  let amount: bigint;
  if (input.amount !== undefined && input.amount !== null) {
    if (!/^[0-9]{1,78}$/.test(input.amount)) throw badInput(`amount must be an integer in base units (${decimals} decimals: "5000000" is 5.00 ${token}), not ${JSON.stringify(input.amount.slice(0, 90))}`);
    amount = BigInt(input.amount);
  } else {
    const formatted = input.amountFormatted!;
    const match = new RegExp(`^([0-9]{1,70})(?:\\.([0-9]{1,${decimals}}))?$`).exec(formatted);
    if (!match) throw badInput(`amountFormatted must be a decimal number with at most ${decimals} decimals ("5.25"), not ${JSON.stringify(formatted.slice(0, 90))}`);
    amount = BigInt(match[1]!) * 10n ** BigInt(decimals) + BigInt((match[2] ?? '').padEnd(decimals, '0') || '0');
  }
  if (amount <= 0n) throw badInput('the amount must be positive');
  if (amount > MAX_AMOUNT) throw badInput('the amount is above what a uint256 holds');
  return amount;
}
