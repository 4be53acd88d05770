import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { IntentPorts, Outbox, SettledIntent } from '../../engine/index.js';
import { ADD_JOB, intentKey, type IssuerSettings } from './settings.js';
import { transition } from './state.js';
import { sendCertificates, sendRefunds } from './investments.js';

export interface CampaignInput {
  companyId: bigint;
  title: string;
  target: bigint;
  minimum: bigint;
  deadline: Date;
}

/** The task that closes campaigns whose deadline has passed. */
export const CLOSE_TASK = 'issuer.closeDue';
/** The task that gives up waiting on a deployment (the campaign goes back to `approved`). */
export const DEPLOY_TIMEOUT_TASK = 'issuer.deployTimeout';

/**
 * Opens a campaign as a draft. The exclusivity lock is the database's: one open
 * campaign per company and one per company per calendar year (unique indexes),
 * so of concurrent requests exactly one inserts and the others get a unique violation.
 */
export async function createCampaign(client: pg.ClientBase, input: CampaignInput, actor: string): Promise<bigint> {
  const reference = `0x${randomBytes(32).toString('hex')}`;
  const { rows } = await client.query<{ id: bigint }>(
    `insert into campaigns (company_id, reference, title, target, minimum, deadline, state, created_by)
     values ($1, $2, $3, $4, $5, $6, 'draft', $7) returning id`,
    [input.companyId, reference, input.title, input.target.toString(), input.minimum.toString(), input.deadline, actor],
  );
  return rows[0]!.id;
}

export const submitCampaign = (client: pg.ClientBase, id: bigint) => transition(client, 'campaign', id, ['draft'], 'submitted', null);
export const withdrawCampaign = (client: pg.ClientBase, id: bigint, reason: string) => transition(client, 'campaign', id, ['draft'], 'withdrawn', reason);

/** A compliance officer's decision on a submitted campaign, recorded with who, when and why. */
async function decide(client: pg.ClientBase, id: bigint, decision: 'approved' | 'rejected', officer: string, reason: string): Promise<boolean> {
  if (!(await transition(client, 'campaign', id, ['submitted'], decision, reason))) return false;
  await client.query(`insert into compliance_approvals (campaign_id, decision, reason, officer) values ($1, $2, $3, $4)`, [id, decision, reason, officer]);
  return true;
}

export const rejectCampaign = (client: pg.ClientBase, id: bigint, officer: string, reason: string) => decide(client, id, 'rejected', officer, reason);

/** Approves a submitted campaign and starts its deployment, in one transaction. */
export async function approveCampaign(client: pg.ClientBase, outbox: Outbox, settings: IssuerSettings, id: bigint, officer: string, reason: string): Promise<boolean> {
  if (!(await decide(client, id, 'approved', officer, reason))) return false;
  return deployCampaign(client, outbox, settings, id);
}

/**
 * Deploys an approved campaign through the factory (also the retry after a
 * failed or timed-out deployment). Each attempt is a new intent for the same
 * reference: the factory creates at the reference's CREATE2 address and refuses
 * a second (CampaignExists), so however many attempts land, one contract exists.
 */
export async function deployCampaign(client: pg.ClientBase, outbox: Outbox, settings: IssuerSettings, id: bigint): Promise<boolean> {
  const { rows } = await client.query<{ wallet: string; target: string; minimum: string; deadline: Date; reference: string; deploy_attempts: number }>(
    `select co.wallet, c.target::text, c.minimum::text, c.deadline, c.reference, c.deploy_attempts
     from campaigns c join companies co on co.id = c.company_id where c.id = $1 and c.state = 'approved' for update of c`,
    [id],
  );
  const campaign = rows[0];
  if (!campaign) return false;
  const attempt = campaign.deploy_attempts + 1;
  const intent = await outbox.submit(client, {
    idempotencyKey: intentKey('campaign', id, 'deploy', attempt),
    kind: 'issuer.createCampaign',
    signer: settings.platformSigner,
    functionName: 'createCampaign',
    args: [campaign.wallet, BigInt(campaign.target), BigInt(campaign.minimum), BigInt(Math.floor(campaign.deadline.getTime() / 1000)), campaign.reference],
  });
  await transition(client, 'campaign', id, ['approved'], 'deploying', attempt > 1 ? `attempt ${attempt}` : null, { deploy_attempts: attempt, deploy_intent: intent.id });
  const giveUpAt = new Date(Date.now() + settings.deployTimeoutSeconds * 1000);
  await client.query(ADD_JOB, [DEPLOY_TIMEOUT_TASK, JSON.stringify({ campaign: id.toString(), intent: intent.id.toString() }), giveUpAt, `issuer.deployTimeout:${id}`]);
  return true;
}

/**
 * The factory created the campaign, or says it exists (an earlier attempt
 * landed): the campaign is live at that address, whatever the platform had
 * concluded meanwhile (a timeout put it back to `approved`).
 */
export async function campaignDeployed(intent: SettledIntent, client: pg.PoolClient): Promise<void> {
  const reference = String((intent.args as string[])[4]);
  const created = intent.events.find((e) => e.name === 'CampaignCreated');
  const address = String(created?.args.campaign ?? intent.error?.args?.[1]).toLowerCase();
  // When an earlier attempt created it, that attempt's transaction is the deployment (the indexer knows it).
  const origin = created
    ? { transaction: intent.transactionId, block: intent.blockNumber }
    : ((await client.query<{ transaction: string; block: string }>(
        'select created_transaction as transaction, created_block::text as block from issuer_chain_campaigns where chain = $1 and address = $2',
        [intent.chain, address],
      )).rows[0] ?? { transaction: null, block: null });
  const { rows } = await client.query<{ id: bigint; deadline: Date }>('select id, deadline from campaigns where reference = $1', [reference]);
  const campaign = rows[0];
  if (!campaign) return;
  const moved = await transition(client, 'campaign', campaign.id, ['deploying', 'approved'], 'active', created ? null : 'deployed by an earlier attempt', {
    contract_address: address,
    deployed_transaction: origin.transaction,
    deployed_block: origin.block,
  });
  // A little after the deadline: the chain's clock (block timestamps) trails the wall clock by up to a block.
  if (moved) await client.query(ADD_JOB, [CLOSE_TASK, '{}', new Date(campaign.deadline.getTime() + 3_000), `issuer.close:${campaign.id}`]);
}

/** The deployment reverted: back to `approved` with the reason, if this is the campaign's current attempt. */
export async function campaignDeployFailed(intent: SettledIntent, client: pg.PoolClient): Promise<void> {
  if (intent.error?.name === 'CampaignExists') return campaignDeployed(intent, client);
  const { rows } = await client.query<{ id: bigint }>('select id from campaigns where deploy_intent = $1', [intent.id]);
  if (rows[0]) await transition(client, 'campaign', rows[0].id, ['deploying'], 'approved', `deploy_failed: ${intent.error?.name}: ${intent.error?.message}`);
}

/**
 * No final answer within the timeout: the campaign goes back to `approved`,
 * saying why and what the chain last said, to be retried. The intent is not
 * withdrawn (it may be in a block already); if it lands, `campaignDeployed` makes
 * the campaign active, and a retry meanwhile meets CampaignExists.
 */
export async function deployTimedOut(client: pg.ClientBase, settings: IssuerSettings, campaignId: bigint, intentId: bigint): Promise<boolean> {
  const { rows } = await client.query<{ state: string; error: { name: string; message: string } | null }>(
    `select i.state, i.error from campaigns c join relayer_intents i on i.id = c.deploy_intent
     where c.id = $1 and c.deploy_intent = $2 and c.state = 'deploying' for update of c`,
    [campaignId, intentId],
  );
  const waiting = rows[0];
  if (!waiting || waiting.state === 'confirmed' || waiting.state === 'failed') return false;
  const last = waiting.error ? ` (last error: ${waiting.error.name}: ${waiting.error.message})` : '';
  return transition(client, 'campaign', campaignId, ['deploying'], 'approved', `deploy_timed_out: no final answer from the chain within ${settings.deployTimeoutSeconds} s${last}`);
}

/**
 * Closes every active campaign whose deadline has passed: `closing`, and the
 * campaign's `finalize()` through the outbox. Run at each campaign's deadline
 * (a job queued when it went live) and every minute (a schedule), so a worker
 * that was down catches up.
 */
export async function closeDueCampaigns(client: pg.ClientBase, outbox: Outbox, settings: IssuerSettings): Promise<number> {
  const { rows } = await client.query<{ id: bigint; contract_address: string; attempts: string }>(
    `select id, contract_address,
       (select count(*) from issuer_audit_log where entity = 'campaign' and entity_id = c.id and to_state = 'closing')::text as attempts
     from campaigns c where state = 'active' and deadline <= now() order by deadline limit 100 for update skip locked`,
  );
  for (const campaign of rows) {
    const intent = await outbox.submit(client, {
      idempotencyKey: intentKey('campaign', campaign.id, 'finalize', Number(campaign.attempts) + 1),
      kind: 'issuer.finalize',
      signer: settings.platformSigner,
      target: campaign.contract_address,
      functionName: 'finalize',
      args: [],
    });
    await transition(client, 'campaign', campaign.id, ['active'], 'closing', null, { finalize_intent: intent.id });
  }
  return rows.length;
}

/** The campaign's `finalize()` settled it; successful: certificates are minted, failed: investments refunded. */
export async function campaignFinalized(intent: SettledIntent, client: pg.PoolClient, ports: IntentPorts, settings: IssuerSettings): Promise<void> {
  const event = intent.events.find((e) => e.name === 'CampaignFinalized');
  const successful = event ? event.args.successful === true : undefined;
  await settle(client, ports.outbox, settings, intent, successful!);
}

export async function campaignFinalizeFailed(intent: SettledIntent, client: pg.PoolClient, ports: IntentPorts, settings: IssuerSettings): Promise<void> {
  const error = intent.error!;
  // Finalised already (an earlier attempt landed): its status says how (1 Successful, 2 Failed).
  if (error.name === 'AlreadyFinalized') return settle(client, ports.outbox, settings, intent, String(error.args?.[0]) === '1');
  const { rows } = await client.query<{ id: bigint }>('select id from campaigns where finalize_intent = $1', [intent.id]);
  if (!rows[0]) return;
  // Too early by the chain's clock (DeadlineNotReached), or anything else: open again, and try again shortly.
  await transition(client, 'campaign', rows[0].id, ['closing'], 'active', `finalize_failed: ${error.name}: ${error.message}`);
  await client.query(ADD_JOB, [CLOSE_TASK, '{}', new Date(Date.now() + 15_000), `issuer.close:${rows[0].id}`]);
}

async function settle(client: pg.PoolClient, outbox: Outbox, settings: IssuerSettings, intent: SettledIntent, successful: boolean): Promise<void> {
  const { rows } = await client.query<{ id: bigint }>('select id from campaigns where contract_address = $1', [intent.target.toLowerCase()]);
  const campaign = rows[0];
  if (!campaign) return;
  if (successful) {
    if (await transition(client, 'campaign', campaign.id, ['closing'], 'successful', null)) await sendCertificates(client, outbox, settings, campaign.id);
  } else if (await transition(client, 'campaign', campaign.id, ['closing'], 'failed', null)) {
    await transition(client, 'campaign', campaign.id, ['failed'], 'refunding', null);
    await sendRefunds(client, outbox, settings, campaign.id);
  }
}
