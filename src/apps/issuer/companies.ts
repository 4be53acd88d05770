import type pg from 'pg';
import type { Outbox, SettledIntent } from '../../engine/index.js';
import { intentKey, type IssuerSettings } from './settings.js';
import { transition } from './state.js';

export interface CompanyInput {
  name: string;
  wallet: string;
  vcHash: string;
  ipfsHash: string;
  /** Who issued the company's verifiable credential (a DID or an organisation). */
  vcIssuer: string;
}

/** Registers a company: its row, its credential link, and its registration as an issuer on chain, in one transaction. */
export async function registerCompany(client: pg.ClientBase, outbox: Outbox, settings: IssuerSettings, input: CompanyInput, actor: string): Promise<bigint> {
  const { rows } = await client.query<{ id: bigint }>(
    `insert into companies (name, wallet, vc_hash, ipfs_hash, state, created_by) values ($1, $2, $3, $4, 'registering', $5) returning id`,
    [input.name, input.wallet, input.vcHash, input.ipfsHash, actor],
  );
  const id = rows[0]!.id;
  await client.query(`insert into vc_links (credential_hash, issuer, subject, company_id) values ($1, $2, $3, $4)`, [input.vcHash, input.vcIssuer, input.wallet, id]);
  await sendRegistration(client, outbox, settings, id, input, 1);
  return id;
}

/** Retries a failed registration: a new intent (the registry answers IssuerAlreadyRegistered if the last one landed after all). */
export async function retryRegistration(client: pg.ClientBase, outbox: Outbox, settings: IssuerSettings, id: bigint): Promise<boolean> {
  const { rows } = await client.query<{ wallet: string; vc_hash: string; ipfs_hash: string; attempts: string }>(
    `select wallet, vc_hash, ipfs_hash, (select count(*) from issuer_audit_log where entity = 'company' and entity_id = c.id and to_state = 'registering')::text as attempts
     from companies c where id = $1 and state = 'registration_failed' for update`,
    [id],
  );
  const company = rows[0];
  if (!company) return false;
  await transition(client, 'company', id, ['registration_failed'], 'registering', 'retried');
  await sendRegistration(client, outbox, settings, id, { wallet: company.wallet, vcHash: company.vc_hash, ipfsHash: company.ipfs_hash }, Number(company.attempts) + 1);
  return true;
}

async function sendRegistration(
  client: pg.ClientBase,
  outbox: Outbox,
  settings: IssuerSettings,
  id: bigint,
  company: Pick<CompanyInput, 'wallet' | 'vcHash' | 'ipfsHash'>,
  attempt: number,
): Promise<void> {
  const intent = await outbox.submit(client, {
    idempotencyKey: intentKey('company', id, 'register', attempt),
    kind: 'issuer.registerIssuer',
    signer: settings.platformSigner,
    functionName: 'registerIssuer',
    args: [company.wallet, company.vcHash, company.ipfsHash],
  });
  await client.query('update companies set registration_intent = $2 where id = $1', [id, intent.id]);
}

/** The registry registered the issuer, or says it already had (a retry of an attempt that landed). */
export async function companyRegistered(intent: SettledIntent, client: pg.PoolClient): Promise<void> {
  await transition(client, 'company', await companyOf(client, intent), ['registering'], 'registered', intent.state === 'failed' ? 'already registered on chain' : null, {
    registered_transaction: intent.transactionId,
    registered_block: intent.blockNumber,
  });
}

export async function companyRegistrationFailed(intent: SettledIntent, client: pg.PoolClient): Promise<void> {
  if (intent.error?.name === 'IssuerAlreadyRegistered') return companyRegistered(intent, client);
  await transition(client, 'company', await companyOf(client, intent), ['registering'], 'registration_failed', `${intent.error?.name}: ${intent.error?.message}`);
}

async function companyOf(client: pg.ClientBase, intent: SettledIntent): Promise<bigint> {
  const { rows } = await client.query<{ id: bigint }>('select id from companies where registration_intent = $1', [intent.id]);
  return rows[0]?.id ?? -1n;
}
