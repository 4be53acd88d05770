import type pg from 'pg';

/**
 * What the API shows of each object: its row with ids and amounts as text
 * (JSON has no 64-bit integers), beside what the chain says where it matters.
 */

export const COMPANY = `select c.id::text, c.name, c.wallet, c.vc_hash, c.ipfs_hash, c.state, c.state_reason, c.state_changed_at,
  c.registration_intent::text, c.registered_transaction, c.registered_block::text, c.created_at,
  coalesce(ci.registered, false) as registered_on_chain
  from companies c left join issuer_chain_issuers ci on ci.chain = $1 and ci.issuer = c.wallet`;

export const INVESTOR = `select i.id::text, i.name, i.wallet, i.country, i.claim_hash, i.state, i.state_reason, i.period_limit::text, i.risk_flags,
  i.review_status, i.created_at, coalesce(ci.verified, false) as verified_on_chain
  from investors i left join issuer_chain_investors ci on ci.chain = $1 and ci.investor = i.wallet`;

export const CAMPAIGN = `select c.id::text, c.company_id::text, c.reference, c.title, c.target::text, c.minimum::text, c.deadline, c.year,
  c.state, c.state_reason, c.state_changed_at, c.deploy_attempts, c.deploy_intent::text, c.contract_address, c.deployed_block::text,
  c.deployed_transaction, c.raised::text, c.created_at,
  cc.address is not null as deployed_on_chain, cc.raised::text as raised_on_chain, cc.investments as investments_on_chain, cc.successful as successful_on_chain
  from campaigns c left join issuer_chain_campaigns cc on cc.chain = $1 and cc.address = c.contract_address`;

export const INVESTMENT = `select v.id::text, v.campaign_id::text, v.investor_id::text, i.wallet as investor_wallet, v.amount::text, v.reference, v.state,
  v.state_reason, v.state_changed_at, v.aml_flags, v.aml_review, v.intent::text, v.transaction_hash, v.block_number::text,
  v.certificate_token_id, v.refund_transaction, v.created_at
  from investments v join investors i on i.id = v.investor_id`;

export const CERTIFICATE = `select n.token_id::text, n.owner, n.campaign, n.investment_reference, n.minted_block::text, n.minted_transaction, n.transfers,
  v.id::text as investment_id
  from nft_share_certificates n left join investments v on v.reference = n.investment_reference`;

/** A verifiable credential compliance relies on: its hash, who issued it, whom it is about, its status. */
export const VC_LINK = `select l.id::text, l.credential_hash, l.issuer, l.subject, l.status, l.created_at from vc_links l`;

export async function one<R extends pg.QueryResultRow>(client: pg.Pool | pg.ClientBase, view: string, where: string, values: unknown[]): Promise<R | undefined> {
  return (await client.query<R>(`${view} where ${where}`, values)).rows[0];
}
