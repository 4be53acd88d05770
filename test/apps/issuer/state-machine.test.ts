import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { keccak256, toHex } from 'viem';
import { createTestDatabase } from '../../harness/db.js';
import { issuerWorld } from '../../harness/issuer-world.js';
import { until } from '../../harness/until.js';

/**
 * The issuer platform's state machines as PostgreSQL enforces them, whoever asks:
 * every move issuer_transitions does not list is refused (LSI01) and leaves no trace,
 * every listed move is audited once, and the exclusivity lock holds under concurrency.
 */

type Entity = 'company' | 'investor' | 'campaign' | 'investment';
const TABLES: Record<Entity, string> = { company: 'companies', investor: 'investors', campaign: 'campaigns', investment: 'investments' };
const NEW = '(new)';

const hex32 = () => `0x${randomBytes(32).toString('hex')}`;
const hex20 = () => `0x${randomBytes(20).toString('hex')}`;

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let transitions: Map<Entity, Array<[string, string]>>;
let user: string;

beforeAll(async () => {
  db = await createTestDatabase([{ name: 'issuer', migrations: 'src/apps/issuer/migrations' }]);
  const { rows } = await db.pool.query<{ entity: Entity; from_state: string; to_state: string }>('select entity, from_state, to_state from issuer_transitions order by 1, 2, 3');
  transitions = new Map();
  for (const r of rows) transitions.set(r.entity, [...(transitions.get(r.entity) ?? []), [r.from_state, r.to_state]]);
  user = (await db.pool.query<{ u: string }>('select session_user as u')).rows[0]!.u;
}, 60_000);
afterAll(async () => db?.drop());

const statesOf = (entity: Entity) => [...new Set(transitions.get(entity)!.flat())].filter((s) => s !== NEW).sort();
const isLegal = (entity: Entity, from: string, to: string) => transitions.get(entity)!.some(([f, t]) => f === from && t === to);

/** The shortest walk of legal moves from '(new)' to `state` (breadth first over the transition table). */
function pathTo(entity: Entity, state: string): string[] {
  const edges = transitions.get(entity)!;
  const previous = new Map<string, string>([[NEW, '']]);
  const queue = [NEW];
  while (queue.length > 0) {
    const at = queue.shift()!;
    if (at === state) break;
    for (const [f, t] of edges) {
      if (f !== at || previous.has(t)) continue;
      previous.set(t, at);
      queue.push(t);
    }
  }
  if (!previous.has(state)) throw new Error(`${entity} state ${state} is unreachable from ${NEW}`);
  const path: string[] = [];
  for (let s = state; s !== NEW; s = previous.get(s)!) path.unshift(s);
  return path;
}

/** A company of its own for every campaign: the exclusivity lock allows one open campaign per company. */
async function insertRow(client: pg.Pool | pg.ClientBase, entity: Entity, state: string): Promise<string> {
  const q = async (sql: string, values: unknown[]) => (await client.query<{ id: string }>(sql, values)).rows[0]!.id;
  switch (entity) {
    case 'company':
      return q(`insert into companies (name, wallet, vc_hash, state, created_by) values ('Co', $1, $2, $3, 'test') returning id::text`, [hex20(), hex32(), state]);
    case 'investor':
      return q(`insert into investors (name, wallet, country, claim_hash, state, created_by) values ('In', $1, 'ES', $2, $3, 'test') returning id::text`, [hex20(), hex32(), state]);
    case 'campaign': {
      const company = await insertRow(client, 'company', 'registering');
      return q(
        `insert into campaigns (company_id, reference, title, target, minimum, deadline, state, created_by) values ($1, $2, 'Ca', 1000, 100, now() + interval '1 day', $3, 'test') returning id::text`,
        [company, hex32(), state],
      );
    }
    case 'investment': {
      const campaign = await insertRow(client, 'campaign', 'draft');
      const investor = await insertRow(client, 'investor', 'verifying');
      return q(`insert into investments (campaign_id, investor_id, amount, reference, state, aml_review, created_by) values ($1, $2, 10, $3, $4, 'passed', 'test') returning id::text`, [
        campaign,
        investor,
        hex32(),
        state,
      ]);
    }
  }
}

/** A row walked to `state` by legal moves only, as direct SQL. */
async function rowIn(entity: Entity, state: string): Promise<string> {
  const [first, ...rest] = pathTo(entity, state);
  const id = await insertRow(db.pool, entity, first!);
  for (const s of rest) await db.pool.query(`update ${TABLES[entity]} set state = $2 where id = $1`, [id, s]);
  const now = await db.pool.query<{ state: string }>(`select state from ${TABLES[entity]} where id = $1`, [id]);
  expect(now.rows[0]!.state).toBe(state);
  return id;
}

const snapshot = async (entity: Entity, id: string) => (await db.pool.query<{ row: unknown }>(`select to_jsonb(t) as row from ${TABLES[entity]} t where id = $1`, [id])).rows[0]!.row;
const auditOf = async (entity: Entity, id: string) =>
  (await db.pool.query<{ from_state: string | null; to_state: string; actor: string }>('select from_state, to_state, actor from issuer_audit_log where entity = $1 and entity_id = $2 order by id', [entity, id])).rows;

async function sqlstate(work: Promise<unknown>): Promise<string | undefined> {
  try {
    await work;
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

const ENTITIES: Entity[] = ['company', 'investor', 'campaign', 'investment'];

describe('issuer state machines, enforced by PostgreSQL', () => {
  it.each(ENTITIES)('%s: every move the transition table does not list is refused with LSI01, changes nothing and writes no audit row', async (entity) => {
    const states = statesOf(entity);
    let refused = 0;
    for (const from of states) {
      const id = await rowIn(entity, from);
      const before = await snapshot(entity, id);
      const audit = await auditOf(entity, id);
      for (const to of states) {
        if (to === from || isLegal(entity, from, to)) continue;
        expect(await sqlstate(db.pool.query(`update ${TABLES[entity]} set state = $2 where id = $1`, [id, to])), `${entity} ${from} -> ${to}`).toBe('LSI01');
        refused++;
      }
      expect(await snapshot(entity, id)).toEqual(before);
      expect(await auditOf(entity, id)).toEqual(audit);
    }
    // Every pair of states but the listed moves: the table, not this test, says how many.
    const listed = transitions.get(entity)!.filter(([f]) => f !== NEW).length;
    expect(refused).toBe(states.length * (states.length - 1) - listed);
    expect(refused).toBeGreaterThan(0);
  });

  it.each(ENTITIES)('%s: every listed move succeeds and writes exactly one audit row naming the actor (sql:<user>, or the issuer.actor setting)', async (entity) => {
    for (const [from, to] of transitions.get(entity)!) {
      if (from === NEW) {
        const id = await insertRow(db.pool, entity, to);
        expect(await auditOf(entity, id)).toEqual([{ from_state: null, to_state: to, actor: `sql:${user}` }]);
        continue;
      }
      // Without the setting: direct SQL, named by the database user.
      const plain = await rowIn(entity, from);
      const plainAudit = await auditOf(entity, plain);
      await db.pool.query(`update ${TABLES[entity]} set state = $2 where id = $1`, [plain, to]);
      expect(await auditOf(entity, plain)).toEqual([...plainAudit, { from_state: from, to_state: to, actor: `sql:${user}` }]);

      // With the transaction's setting: the actor it names.
      const named = await rowIn(entity, from);
      const namedAudit = await auditOf(entity, named);
      const client = await db.pool.connect();
      try {
        await client.query('begin');
        await client.query(`select set_config('issuer.actor', $1, true)`, ['key:test-officer']);
        await client.query(`update ${TABLES[entity]} set state = $2 where id = $1`, [named, to]);
        await client.query('commit');
      } finally {
        client.release();
      }
      expect(await auditOf(entity, named)).toEqual([...namedAudit, { from_state: from, to_state: to, actor: 'key:test-officer' }]);
    }
  });

  it.each(ENTITIES)('%s: a row inserted in a state other than the initial ones is refused', async (entity) => {
    const initial = transitions.get(entity)!.filter(([f]) => f === NEW).map(([, t]) => t);
    const others = statesOf(entity).filter((s) => !initial.includes(s));
    expect(others.length).toBeGreaterThan(0);
    // Counted per entity: a campaign or an investment needs rows of other entities (its company...) first.
    const count = async () => Number((await db.pool.query(`select count(*) from ${TABLES[entity]}`)).rows[0].count);
    const audited = async () => Number((await db.pool.query('select count(*) from issuer_audit_log where entity = $1', [entity])).rows[0].count);
    for (const state of others) {
      const [rows, audit] = [await count(), await audited()];
      expect(await sqlstate(insertRow(db.pool, entity, state)), `${entity} inserted as ${state}`).toBe('LSI01');
      expect(await count()).toBe(rows);
      expect(await audited()).toBe(audit);
    }
  });

  it('the audit log refuses update, delete and truncate', async () => {
    const id = await rowIn('company', 'registered');
    const before = await auditOf('company', id);
    expect(await sqlstate(db.pool.query(`update issuer_audit_log set actor = 'forged' where entity = 'company' and entity_id = $1`, [id]))).toBe('LSI02');
    expect(await sqlstate(db.pool.query(`delete from issuer_audit_log where entity = 'company' and entity_id = $1`, [id]))).toBe('LSI02');
    expect(await sqlstate(db.pool.query('truncate issuer_audit_log'))).toBe('LSI02');
    expect(await auditOf('company', id)).toEqual(before);
  });
});

describe('the exclusivity lock, in the database', () => {
  const draft = (client: pg.Pool | pg.ClientBase, company: string, extra: { year?: number } = {}) =>
    client.query<{ id: string }>(
      `insert into campaigns (company_id, reference, title, target, minimum, deadline, state, created_by, year)
       values ($1, $2, 'Lock', 1000, 100, now() + interval '1 day', 'draft', 'test', coalesce($3, extract(year from now() at time zone 'UTC'))) returning id::text`,
      [company, hex32(), extra.year ?? null],
    );

  it('of 20 concurrent transactions inserting a draft for the same company, exactly one commits', async () => {
    const company = await insertRow(db.pool, 'company', 'registering');
    // Connections of their own: the pool holds fewer than 20.
    const clients = Array.from({ length: 20 }, () => new pg.Client({ connectionString: db.url }));
    await Promise.all(clients.map((c) => c.connect()));
    try {
      // All transactions are open before any inserts, so the 19 others wait on the winner's index entry.
      await Promise.all(clients.map((c) => c.query('begin')));
      const outcomes = await Promise.all(
        clients.map(async (c) => {
          try {
            await draft(c, company);
            await c.query('commit');
            return 'committed';
          } catch (error) {
            await c.query('rollback');
            return `${(error as { code?: string }).code} ${(error as { constraint?: string }).constraint}`;
          }
        }),
      );
      expect(outcomes.filter((o) => o === 'committed')).toHaveLength(1);
      expect(outcomes.filter((o) => o === '23505 campaigns_one_open_per_company')).toHaveLength(19);
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
    expect(Number((await db.pool.query('select count(*) from campaigns where company_id = $1', [company])).rows[0].count)).toBe(1);
  });

  it('a withdrawn or rejected campaign frees the year; one that ran (successful, failed, refunded, certificates issued) holds it', async () => {
    const setState = async (id: string, ...states: string[]) => {
      for (const s of states) await db.pool.query('update campaigns set state = $2 where id = $1', [id, s]);
    };
    // Withdrawn: a new draft the same year is fine.
    const withdrawn = await insertRow(db.pool, 'company', 'registering');
    const first = (await draft(db.pool, withdrawn)).rows[0]!.id;
    expect(await sqlstate(draft(db.pool, withdrawn))).toBe('23505');
    await setState(first, 'withdrawn');
    expect((await draft(db.pool, withdrawn)).rows).toHaveLength(1);

    // Rejected: likewise.
    const rejected = await insertRow(db.pool, 'company', 'registering');
    await setState((await draft(db.pool, rejected)).rows[0]!.id, 'submitted', 'rejected');
    expect((await draft(db.pool, rejected)).rows).toHaveLength(1);

    // A campaign that ran, whatever its end: no second campaign that calendar year, one the next year is fine.
    const ran: Record<string, string[]> = {
      successful: pathTo('campaign', 'successful'),
      certificates_issued: pathTo('campaign', 'certificates_issued'),
      failed: pathTo('campaign', 'failed'),
      refunded: pathTo('campaign', 'refunded'),
    };
    for (const [end, path] of Object.entries(ran)) {
      const company = await insertRow(db.pool, 'company', 'registering');
      const id = (await draft(db.pool, company)).rows[0]!.id;
      await setState(id, ...path.slice(1));
      const refusal = await draft(db.pool, company).catch((e: { code?: string; constraint?: string }) => e);
      expect(refusal, `after a campaign ${end}`).toMatchObject({ code: '23505', constraint: 'campaigns_one_per_company_per_year' });
      const year = (await db.pool.query<{ year: number }>('select year from campaigns where id = $1', [id])).rows[0]!.year;
      expect((await draft(db.pool, company, { year: year + 1 })).rows, `next year after ${end}`).toHaveLength(1);
    }
  });
});

describe('the exclusivity lock, through the API', () => {
  it('20 parallel requests to open a campaign for one registered company: one 201, nineteen 409 problem+json; withdrawing the draft frees the slot', async () => {
    const w = await issuerWorld({ blockTime: 1, finality: 2 });
    await w.deploy();
    await w.start();
    const keys = await w.keys();
    const company = await w.http('POST', '/api/companies', keys.officer, { name: 'Lock Ltd', wallet: hex20(), vcHash: keccak256(toHex('lock vc')), vcIssuer: 'did:web:registry.example' });
    expect(company.status).toBe(201);
    const companyId = String(company.body.id);
    await until(async () => (await w.http('GET', `/api/companies/${companyId}`, keys.officer)).body.state === 'registered', 'the company registered', 30_000);
    const companyKey = await keys.company(companyId);

    const body = { title: 'Wind farm', target: '10000', minimum: '1000', deadline: new Date(Date.now() + 3_600_000).toISOString() };
    const answers = await Promise.all(Array.from({ length: 20 }, () => w.http('POST', '/api/campaigns', companyKey, body)));
    const created = answers.filter((a) => a.status === 201);
    const refused = answers.filter((a) => a.status === 409);
    expect(created).toHaveLength(1);
    expect(refused).toHaveLength(19);
    for (const r of refused) {
      expect(r.type).toMatch(/^application\/problem\+json/);
      expect(r.body).toMatchObject({ status: 409 });
      expect(String(r.body.detail)).toMatch(/open campaign|one per year/);
    }
    const { rows } = await w.pool().query('select id::text, state from campaigns where company_id = $1', [companyId]);
    expect(rows).toEqual([{ id: String(created[0]!.body.id), state: 'draft' }]);

    // A withdrawn draft did not run: it frees both the open slot and the year.
    expect((await w.http('POST', `/api/campaigns/${created[0]!.body.id}/withdraw`, companyKey)).body.state).toBe('withdrawn');
    const again = await w.http('POST', '/api/campaigns', companyKey, body);
    expect(again.status).toBe(201);
    expect(again.body.state).toBe('draft');
  }, 120_000);
});
