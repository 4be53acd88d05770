import type pg from 'pg';
import type { Outbox, SettledIntent } from '../../engine/index.js';
import { intentKey, type IssuerSettings } from './settings.js';
import { transition } from './state.js';

export interface InvestorInput {
  name: string;
  wallet: string;
  country: string;
  /** The hash of the claim (KYC) that verifies them, and who issued it. */
  claimHash: string;
  claimIssuer: string;
  periodLimit?: bigint | undefined;
}

/** Onboards an investor: their row, their claim's credential link, and their verification in the investor registry on chain. */
export async function verifyInvestor(client: pg.ClientBase, outbox: Outbox, settings: IssuerSettings, input: InvestorInput, actor: string): Promise<bigint> {
  const { rows } = await client.query<{ id: bigint }>(
    `insert into investors (name, wallet, country, claim_hash, period_limit, state, created_by) values ($1, $2, $3, $4, $5, 'verifying', $6) returning id`,
    [input.name, input.wallet, input.country, input.claimHash, input.periodLimit?.toString() ?? null, actor],
  );
  const id = rows[0]!.id;
  await client.query(`insert into vc_links (credential_hash, issuer, subject, investor_id) values ($1, $2, $3, $4)`, [input.claimHash, input.claimIssuer, input.wallet, id]);
  const intent = await outbox.submit(client, {
    idempotencyKey: intentKey('investor', id, 'verify'),
    kind: 'issuer.verifyInvestor',
    signer: settings.platformSigner,
    functionName: 'verifyInvestor',
    args: [input.wallet, input.claimHash],
  });
  await client.query('update investors set verification_intent = $2 where id = $1', [id, intent.id]);
  return id;
}

export async function investorVerified(intent: SettledIntent, client: pg.PoolClient): Promise<void> {
  await transition(client, 'investor', await investorOf(client, intent), ['verifying'], 'verified', null);
}

export async function investorVerificationFailed(intent: SettledIntent, client: pg.PoolClient): Promise<void> {
  await transition(client, 'investor', await investorOf(client, intent), ['verifying'], 'verification_failed', `${intent.error?.name}: ${intent.error?.message}`);
}

async function investorOf(client: pg.ClientBase, intent: SettledIntent): Promise<bigint> {
  const { rows } = await client.query<{ id: bigint }>('select id from investors where verification_intent = $1', [intent.id]);
  return rows[0]?.id ?? -1n;
}
