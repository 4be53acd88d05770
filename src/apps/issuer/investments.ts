import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { IntentPorts, Outbox, SettledIntent, SubmitIntent } from '../../engine/index.js';
import { amlCheck, type AmlFlag, type AmlInvestor } from './aml.js';
import { intentKey, type IssuerSettings } from './settings.js';
import { transition } from './state.js';

export interface InvestmentInput {
  campaignId: bigint;
  investorId: bigint;
  amount: bigint;
  idempotencyKey?: string | undefined;
}

export type InvestOutcome =
  | { kind: 'created'; id: bigint; state: 'recording' | 'held'; flags: AmlFlag[] }
  | { kind: 'repeated'; id: bigint }
  | { kind: 'refused'; status: 404 | 409 | 422; detail: string };

/**
 * An investment in an active campaign by a verified investor. The AML check
 * decides: it passes (the investment is recorded on chain through the outbox) or
 * it is held for a compliance officer, with the flags that tripped. One transaction.
 */
export async function invest(client: pg.ClientBase, outbox: Outbox, settings: IssuerSettings, input: InvestmentInput, actor: string): Promise<InvestOutcome> {
  if (input.idempotencyKey) {
    const { rows } = await client.query<{ id: bigint; campaign_id: bigint; investor_id: bigint; amount: string }>(
      'select id, campaign_id, investor_id, amount::text from investments where idempotency_key = $1',
      [input.idempotencyKey],
    );
    const earlier = rows[0];
    if (earlier) {
      const same = earlier.campaign_id === input.campaignId && earlier.investor_id === input.investorId && BigInt(earlier.amount) === input.amount;
      return same ? { kind: 'repeated', id: earlier.id } : { kind: 'refused', status: 409, detail: `Idempotency-Key ${input.idempotencyKey} was used for a different investment (${earlier.id})` };
    }
  }
  const campaigns = await client.query<{ state: string; open: boolean }>(
    'select state, deadline > now() as open from campaigns where id = $1 for share',
    [input.campaignId],
  );
  const campaign = campaigns.rows[0];
  if (!campaign) return { kind: 'refused', status: 404, detail: `campaign ${input.campaignId} does not exist` };
  if (campaign.state !== 'active' || !campaign.open) return { kind: 'refused', status: 409, detail: `campaign ${input.campaignId} takes no investments: it is ${campaign.state}${campaign.state === 'active' ? ' and past its deadline' : ''}` };
  // Locking the investor serialises their investments, so the AML sums see each other.
  const investors = await client.query<AmlInvestor & { state: string }>(
    'select id, country, period_limit::text, risk_flags, review_status, state from investors where id = $1 for update',
    [input.investorId],
  );
  const investor = investors.rows[0];
  if (!investor) return { kind: 'refused', status: 404, detail: `investor ${input.investorId} does not exist` };
  if (investor.state !== 'verified') return { kind: 'refused', status: 409, detail: `investor ${input.investorId} is not verified (${investor.state})` };

  const flags = await amlCheck(client, settings.aml, investor, input.amount);
  const state = flags.length === 0 ? 'recording' : 'held';
  const { rows } = await client.query<{ id: bigint }>(
    `insert into investments (campaign_id, investor_id, amount, reference, state, state_reason, aml_flags, aml_review, idempotency_key, created_by)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) returning id`,
    [
      input.campaignId,
      input.investorId,
      input.amount.toString(),
      `0x${randomBytes(32).toString('hex')}`,
      state,
      flags.length > 0 ? `aml: ${flags.join(', ')}` : null,
      flags,
      flags.length === 0 ? 'passed' : 'held',
      input.idempotencyKey ?? null,
      actor,
    ],
  );
  const id = rows[0]!.id;
  if (state === 'recording') await sendRecording(client, outbox, settings, id);
  return { kind: 'created', id, state, flags };
}

/** An officer releases a held investment: recorded on chain like any other, the decision kept. */
export async function releaseInvestment(client: pg.ClientBase, outbox: Outbox, settings: IssuerSettings, id: bigint, officer: string, reason: string): Promise<boolean> {
  if (!(await transition(client, 'investment', id, ['held'], 'recording', `released: ${reason}`, { aml_review: 'released' }))) return false;
  await client.query(`insert into compliance_approvals (investment_id, decision, reason, officer) values ($1, 'released', $2, $3)`, [id, reason, officer]);
  await sendRecording(client, outbox, settings, id);
  return true;
}

export async function rejectInvestment(client: pg.ClientBase, id: bigint, officer: string, reason: string): Promise<boolean> {
  if (!(await transition(client, 'investment', id, ['held'], 'rejected', reason, { aml_review: 'rejected' }))) return false;
  await client.query(`insert into compliance_approvals (investment_id, decision, reason, officer) values ($1, 'rejected', $2, $3)`, [id, reason, officer]);
  return true;
}

async function sendRecording(client: pg.ClientBase, outbox: Outbox, settings: IssuerSettings, id: bigint): Promise<void> {
  const { rows } = await client.query<{ contract_address: string; wallet: string; amount: string; reference: string }>(
    `select c.contract_address, i.wallet, v.amount::text, v.reference from investments v
     join campaigns c on c.id = v.campaign_id join investors i on i.id = v.investor_id where v.id = $1`,
    [id],
  );
  const investment = rows[0]!;
  const intent = await outbox.submit(client, {
    idempotencyKey: intentKey('investment', id, 'record'),
    kind: 'issuer.recordInvestment',
    signer: settings.platformSigner,
    target: investment.contract_address,
    functionName: 'recordInvestment',
    args: [investment.wallet, BigInt(investment.amount), investment.reference],
  });
  await client.query('update investments set intent = $2 where id = $1', [id, intent.id]);
}

/** Recorded on chain (or already, by an attempt that landed): the transaction hash is kept, the campaign's total grows. */
export async function investmentRecorded(intent: SettledIntent, client: pg.PoolClient, ports: IntentPorts, settings: IssuerSettings): Promise<void> {
  const reference = String((intent.args as string[])[2]);
  let origin = { transaction: intent.transactionId, block: intent.blockNumber?.toString() ?? null };
  if (intent.state === 'failed') {
    const { rows } = await client.query<{ transaction: string; block: string }>(
      'select recorded_transaction as transaction, recorded_block::text as block from issuer_chain_investments where chain = $1 and campaign = $2 and reference = $3',
      [intent.chain, intent.target.toLowerCase(), reference],
    );
    origin = rows[0] ?? { transaction: null, block: null };
  }
  const { rows } = await client.query<{ id: bigint; campaign_id: bigint; amount: string }>('select id, campaign_id, amount::text from investments where reference = $1', [reference]);
  const investment = rows[0];
  if (!investment) return;
  const moved = await transition(client, 'investment', investment.id, ['recording'], 'recorded', intent.state === 'failed' ? 'already recorded on chain' : null, {
    transaction_hash: origin.transaction,
    block_number: origin.block,
  });
  if (!moved) return;
  await client.query('update campaigns set raised = raised + $2 where id = $1', [investment.campaign_id, investment.amount]);
  // Recorded before the deadline but heard of after the campaign closed: it follows the campaign's outcome.
  const { rows: campaign } = await client.query<{ state: string }>('select state from campaigns where id = $1', [investment.campaign_id]);
  if (campaign[0]?.state === 'successful') await sendCertificates(client, ports.outbox, settings, investment.campaign_id);
  if (campaign[0]?.state === 'refunding') await sendRefunds(client, ports.outbox, settings, investment.campaign_id);
}

export async function investmentRecordFailed(intent: SettledIntent, client: pg.PoolClient, ports: IntentPorts, settings: IssuerSettings): Promise<void> {
  if (intent.error?.name === 'InvestmentAlreadyRecorded') return investmentRecorded(intent, client, ports, settings);
  const reference = String((intent.args as string[])[2]);
  const { rows } = await client.query<{ id: bigint }>('select id from investments where reference = $1', [reference]);
  if (rows[0]) await transition(client, 'investment', rows[0].id, ['recording'], 'record_failed', `${intent.error?.name}: ${intent.error?.message}`);
}

/** A successful campaign: one certificate per recorded investment, minted to its investor. */
export async function sendCertificates(client: pg.ClientBase, outbox: Outbox, settings: IssuerSettings, campaignId: bigint): Promise<void> {
  await followUp(client, outbox, campaignId, 'certificate_intent', (investment) => ({
    idempotencyKey: intentKey('investment', investment.id, 'certificate'),
    kind: 'issuer.mint',
    signer: settings.platformSigner,
    functionName: 'mint',
    args: [investment.contract_address, investment.wallet, investment.reference],
  }));
}

/** A failed campaign: each recorded investment is marked refunded on chain (the money goes back off chain). */
export async function sendRefunds(client: pg.ClientBase, outbox: Outbox, settings: IssuerSettings, campaignId: bigint): Promise<void> {
  await followUp(client, outbox, campaignId, 'refund_intent', (investment) => ({
    idempotencyKey: intentKey('investment', investment.id, 'refund'),
    kind: 'issuer.refund',
    signer: settings.platformSigner,
    target: investment.contract_address,
    functionName: 'refund',
    args: [investment.reference],
  }));
}

interface RecordedInvestment {
  id: bigint;
  contract_address: string;
  wallet: string;
  reference: string;
}

/**
 * One intent per recorded investment of the campaign that has none in `column` yet (so a
 * late-recorded investment gets its own later), each noted on its investment in one statement.
 */
async function followUp(
  client: pg.ClientBase,
  outbox: Outbox,
  campaignId: bigint,
  column: 'certificate_intent' | 'refund_intent',
  intentFor: (investment: RecordedInvestment) => SubmitIntent,
): Promise<void> {
  const { rows } = await client.query<RecordedInvestment>(
    `select v.id, c.contract_address, i.wallet, v.reference from investments v
     join campaigns c on c.id = v.campaign_id join investors i on i.id = v.investor_id
     where v.campaign_id = $1 and v.state = 'recorded' and v.${column} is null order by v.id`,
    [campaignId],
  );
  const intents: bigint[] = [];
  for (const investment of rows) intents.push((await outbox.submit(client, intentFor(investment))).id);
  if (rows.length > 0) {
    await client.query(`update investments v set ${column} = u.intent from unnest($1::bigint[], $2::bigint[]) as u(id, intent) where v.id = u.id`, [
      rows.map((r) => r.id),
      intents,
    ]);
  }
  await finishIfDone(client, campaignId);
}

/** The certificate is minted (or was, by an attempt that landed): the investment is certified. */
export async function certificateMinted(intent: SettledIntent, client: pg.PoolClient): Promise<void> {
  const minted = intent.events.find((e) => e.name === 'CertificateMinted');
  const tokenId = minted ? String(minted.args.tokenId) : String(intent.error?.args?.[2]);
  const { rows } = await client.query<{ id: bigint; campaign_id: bigint }>('select id, campaign_id from investments where certificate_intent = $1', [intent.id]);
  if (!rows[0]) return;
  await transition(client, 'investment', rows[0].id, ['recorded'], 'certified', null, { certificate_token_id: tokenId });
  await finishIfDone(client, rows[0].campaign_id);
}

export async function certificateFailed(intent: SettledIntent, client: pg.PoolClient): Promise<void> {
  if (intent.error?.name === 'CertificateAlreadyMinted') return certificateMinted(intent, client);
  // Not expected (the campaign is successful and the investment recorded): kept visible on the investment.
  await client.query('update investments set state_reason = $2 where certificate_intent = $1', [intent.id, `certificate_failed: ${intent.error?.name}: ${intent.error?.message}`]);
}

export async function investmentRefunded(intent: SettledIntent, client: pg.PoolClient): Promise<void> {
  const { rows } = await client.query<{ id: bigint; campaign_id: bigint }>('select id, campaign_id from investments where refund_intent = $1', [intent.id]);
  if (!rows[0]) return;
  await transition(client, 'investment', rows[0].id, ['recorded'], 'refunded', intent.state === 'failed' ? 'already refunded on chain' : null, {
    refund_transaction: intent.transactionId,
  });
  await finishIfDone(client, rows[0].campaign_id);
}

export async function refundFailed(intent: SettledIntent, client: pg.PoolClient): Promise<void> {
  if (intent.error?.name === 'AlreadyRefunded') return investmentRefunded(intent, client);
  await client.query('update investments set state_reason = $2 where refund_intent = $1', [intent.id, `refund_failed: ${intent.error?.name}: ${intent.error?.message}`]);
}

/** When no investment is left to certify or refund (or still being recorded), the campaign reaches its end state. */
async function finishIfDone(client: pg.ClientBase, campaignId: bigint): Promise<void> {
  const { rows } = await client.query<{ left: string }>(`select count(*)::text as left from investments where campaign_id = $1 and state in ('recording', 'recorded')`, [campaignId]);
  if (rows[0]!.left !== '0') return;
  await transition(client, 'campaign', campaignId, ['successful'], 'certificates_issued', null);
  await transition(client, 'campaign', campaignId, ['refunding'], 'refunded', null);
}
