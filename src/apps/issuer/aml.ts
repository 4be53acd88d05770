import type pg from 'pg';

/** The anti-money-laundering rules every investment is checked against (from the app's configuration). */
export interface AmlPolicy {
  /** ISO 3166-1 alpha-2 codes: an investor from one of these is always held. */
  sanctionedCountries: string[];
  /** The most one investor may invest within `periodDays` (an investor's own `period_limit` overrides it). */
  periodLimit: bigint;
  periodDays: number;
  /** An investor's investments within `velocityWindowHours`: the next one beyond `velocityMax` is held. */
  velocityMax: number;
  velocityWindowHours: number;
  /** A single investment above this is held for review. */
  reviewAbove: bigint;
}

export const DEFAULT_AML: AmlPolicy = {
  sanctionedCountries: ['KP', 'IR', 'SY', 'CU'],
  periodLimit: 100_000n,
  periodDays: 30,
  velocityMax: 10,
  velocityWindowHours: 24,
  reviewAbove: 50_000n,
};

/** Why an investment is held; none: it passes. */
export type AmlFlag = 'sanctioned_country' | 'investor_blocked' | 'investor_watch' | 'risk_flags' | 'period_limit' | 'velocity' | 'large_amount';

export interface AmlInvestor {
  id: bigint;
  country: string;
  period_limit: string | null;
  risk_flags: string[];
  review_status: 'clear' | 'watch' | 'blocked';
}

/**
 * Checks an investment of `amount` by `investor` against the policy and the
 * investor's recent investments (those not rejected or failed). Runs inside the
 * transaction that records the investment, after the investor's row is locked,
 * so two concurrent investments by one investor are counted one after the other.
 */
export async function amlCheck(client: pg.ClientBase, policy: AmlPolicy, investor: AmlInvestor, amount: bigint): Promise<AmlFlag[]> {
  const { rows } = await client.query<{ period_total: string; recent: string }>(
    `select coalesce(sum(amount) filter (where created_at > now() - make_interval(days => $2)), 0)::text as period_total,
            count(*) filter (where created_at > now() - make_interval(hours => $3))::text as recent
     from investments where investor_id = $1 and state not in ('rejected', 'record_failed')`,
    [investor.id, policy.periodDays, policy.velocityWindowHours],
  );
  const limit = investor.period_limit !== null ? BigInt(investor.period_limit) : policy.periodLimit;
  const flags: AmlFlag[] = [];
  if (policy.sanctionedCountries.includes(investor.country)) flags.push('sanctioned_country');
  if (investor.review_status === 'blocked') flags.push('investor_blocked');
  if (investor.review_status === 'watch') flags.push('investor_watch');
  if (investor.risk_flags.length > 0) flags.push('risk_flags');
  if (BigInt(rows[0]!.period_total) + amount > limit) flags.push('period_limit');
  if (Number(rows[0]!.recent) >= policy.velocityMax) flags.push('velocity');
  if (amount > policy.reviewAbove) flags.push('large_amount');
  return flags;
}
