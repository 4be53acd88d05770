import type { ChainEvent, Projection } from '../../engine/index.js';

/**
 * The chain as it is, beside the platform's own rows: what the registries, the
 * factory, each campaign and the certificate contract said. Projections are
 * journaled, so a reorg takes back exactly what it removed; the business tables
 * move only on final outcomes (intent handlers), which no reorg can undo.
 */

const lower = (value: unknown) => String(value).toLowerCase();

/** Issuers as the issuer registry last described them. */
export const chainIssuersProjection: Projection = {
  name: 'issuer_chain_issuers',
  tables: ['issuer_chain_issuers'],
  events: ['issuers.IssuerRegistered', 'issuers.IssuerRevoked'],
  async apply(events, store) {
    const latest = lastPer(events, (e) => lower(e.args.issuer));
    await store.query(
      `insert into issuer_chain_issuers (chain, issuer, vc_hash, ipfs_hash, registered, updated_block, updated_transaction)
       select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::boolean[], $6::bigint[], $7::text[])
       on conflict (chain, issuer) do update set
         vc_hash = case when excluded.registered then excluded.vc_hash else issuer_chain_issuers.vc_hash end,
         ipfs_hash = case when excluded.registered then excluded.ipfs_hash else issuer_chain_issuers.ipfs_hash end,
         registered = excluded.registered, updated_block = excluded.updated_block, updated_transaction = excluded.updated_transaction`,
      [
        latest.map((e) => e.chain),
        latest.map((e) => lower(e.args.issuer)),
        latest.map((e) => (e.name === 'IssuerRegistered' ? String(e.args.vcHash) : '')),
        latest.map((e) => (e.name === 'IssuerRegistered' ? String(e.args.ipfsHash) : '')),
        latest.map((e) => e.name === 'IssuerRegistered'),
        latest.map((e) => e.blockNumber.toString()),
        latest.map((e) => e.transactionId),
      ],
    );
  },
};

/** Investors as the investor registry last described them. */
export const chainInvestorsProjection: Projection = {
  name: 'issuer_chain_investors',
  tables: ['issuer_chain_investors'],
  events: ['investors.InvestorVerified', 'investors.InvestorRevoked'],
  async apply(events, store) {
    const latest = lastPer(events, (e) => lower(e.args.investor));
    await store.query(
      `insert into issuer_chain_investors (chain, investor, claim_hash, verified, updated_block)
       select * from unnest($1::text[], $2::text[], $3::text[], $4::boolean[], $5::bigint[])
       on conflict (chain, investor) do update set claim_hash = excluded.claim_hash, verified = excluded.verified, updated_block = excluded.updated_block`,
      [
        latest.map((e) => e.chain),
        latest.map((e) => lower(e.args.investor)),
        latest.map((e) => (e.name === 'InvestorVerified' ? String(e.args.claimHash) : null)),
        latest.map((e) => e.name === 'InvestorVerified'),
        latest.map((e) => e.blockNumber.toString()),
      ],
    );
  },
};

/** Campaign contracts as the factory created them (found by the factory source), their investments and outcome. */
export const chainCampaignsProjection: Projection = {
  name: 'issuer_chain_campaigns',
  tables: ['issuer_chain_campaigns', 'issuer_chain_investments'],
  events: ['factory.CampaignCreated', 'campaigns.InvestmentRecorded', 'campaigns.CampaignFinalized', 'campaigns.InvestmentRefunded'],
  async apply(events, store) {
    // In chain order, a few statements per kind: a campaign is created before anything happens to it.
    const created = events.filter((e) => e.name === 'CampaignCreated');
    if (created.length > 0) {
      await store.copy(
        'issuer_chain_campaigns',
        ['chain', 'address', 'issuer', 'reference', 'target', 'minimum', 'deadline', 'created_block', 'created_transaction'],
        created.map((e) => [
          e.chain,
          lower(e.args.campaign),
          lower(e.args.issuer),
          String(e.args.campaignReference),
          String(e.args.target),
          String(e.args.minimum),
          String(e.args.deadline),
          e.blockNumber,
          e.transactionId,
        ]),
      );
    }
    const recorded = events.filter((e) => e.name === 'InvestmentRecorded');
    if (recorded.length > 0) {
      await store.copy(
        'issuer_chain_investments',
        ['chain', 'campaign', 'reference', 'investor', 'amount', 'recorded_block', 'recorded_transaction'],
        recorded.map((e) => [e.chain, lower(e.emitter), String(e.args.investmentReference), lower(e.args.investor), String(e.args.amount), e.blockNumber, e.transactionId]),
      );
      const totals = new Map<string, { chain: string; address: string; amount: bigint; count: number }>();
      for (const e of recorded) {
        const key = `${e.chain} ${lower(e.emitter)}`;
        const total = totals.get(key) ?? { chain: e.chain, address: lower(e.emitter), amount: 0n, count: 0 };
        total.amount += BigInt(String(e.args.amount));
        total.count += 1;
        totals.set(key, total);
      }
      const rows = [...totals.values()];
      await store.query(
        `update issuer_chain_campaigns c set raised = c.raised + u.amount, investments = c.investments + u.count
         from unnest($1::text[], $2::text[], $3::numeric[], $4::int[]) as u(chain, address, amount, count)
         where c.chain = u.chain and c.address = u.address`,
        [rows.map((r) => r.chain), rows.map((r) => r.address), rows.map((r) => r.amount.toString()), rows.map((r) => r.count)],
      );
    }
    const finalized = events.filter((e) => e.name === 'CampaignFinalized');
    if (finalized.length > 0) {
      await store.query(
        `update issuer_chain_campaigns c set successful = u.successful, finalized_block = u.block
         from unnest($1::text[], $2::text[], $3::boolean[], $4::bigint[]) as u(chain, address, successful, block)
         where c.chain = u.chain and c.address = u.address`,
        [finalized.map((e) => e.chain), finalized.map((e) => lower(e.emitter)), finalized.map((e) => e.args.successful === true), finalized.map((e) => e.blockNumber.toString())],
      );
    }
    const refunded = events.filter((e) => e.name === 'InvestmentRefunded');
    if (refunded.length > 0) {
      await store.query(
        `update issuer_chain_investments v set refunded_transaction = u.tx
         from unnest($1::text[], $2::text[], $3::text[], $4::text[]) as u(chain, campaign, reference, tx)
         where v.chain = u.chain and v.campaign = u.campaign and v.reference = u.reference`,
        [refunded.map((e) => e.chain), refunded.map((e) => lower(e.emitter)), refunded.map((e) => String(e.args.investmentReference)), refunded.map((e) => e.transactionId)],
      );
    }
  },
};

/**
 * Share certificates, one row per token, from the certificate contract's
 * `Transfer`s: a mint (from the zero address) creates the row, later transfers
 * move it; `CertificateMinted` (same transaction) names its campaign and investment.
 */
export const certificatesProjection: Projection = {
  name: 'nft_share_certificates',
  tables: ['nft_share_certificates'],
  events: ['certificates.Transfer', 'certificates.CertificateMinted'],
  async apply(events, store) {
    const ZERO = '0x0000000000000000000000000000000000000000';
    const mints = events.filter((e) => e.name === 'Transfer' && lower(e.args.from) === ZERO);
    if (mints.length > 0) {
      await store.copy(
        'nft_share_certificates',
        ['chain', 'token_id', 'owner', 'minted_block', 'minted_transaction'],
        mints.map((e) => [e.chain, String(e.args.tokenId), lower(e.args.to), e.blockNumber, e.transactionId]),
      );
    }
    const described = events.filter((e) => e.name === 'CertificateMinted');
    if (described.length > 0) {
      await store.query(
        `update nft_share_certificates n set campaign = u.campaign, investment_reference = u.reference
         from unnest($1::text[], $2::numeric[], $3::text[], $4::text[]) as u(chain, token_id, campaign, reference)
         where n.chain = u.chain and n.token_id = u.token_id`,
        [described.map((e) => e.chain), described.map((e) => String(e.args.tokenId)), described.map((e) => lower(e.args.campaign)), described.map((e) => String(e.args.investmentReference))],
      );
    }
    const transfers = events.filter((e) => e.name === 'Transfer' && lower(e.args.from) !== ZERO);
    const token = (e: ChainEvent) => `${e.chain} ${String(e.args.tokenId)}`;
    const moves = lastPer(transfers, token);
    if (moves.length > 0) {
      const counts = new Map<string, number>();
      for (const e of transfers) counts.set(token(e), (counts.get(token(e)) ?? 0) + 1);
      await store.query(
        `update nft_share_certificates n set owner = u.owner, transfers = n.transfers + u.count
         from unnest($1::text[], $2::numeric[], $3::text[], $4::int[]) as u(chain, token_id, owner, count)
         where n.chain = u.chain and n.token_id = u.token_id`,
        [moves.map((e) => e.chain), moves.map((e) => String(e.args.tokenId)), moves.map((e) => lower(e.args.to)), moves.map((e) => counts.get(token(e))!)],
      );
    }
  },
};

/** The last event per key, in chain order: one statement cannot update a row twice. */
function lastPer(events: ChainEvent[], key: (e: ChainEvent) => string): ChainEvent[] {
  const latest = new Map<string, ChainEvent>();
  for (const e of events) latest.set(key(e), e);
  return [...latest.values()];
}
