import type pg from 'pg';

/** The tables whose rows follow a state machine (issuer_transitions), by entity. */
export const TABLES = { company: 'companies', investor: 'investors', campaign: 'campaigns', investment: 'investments' } as const;
export type Entity = keyof typeof TABLES;

/** PostgreSQL's refusal of a move issuer_transitions does not list (the migration's guard trigger). */
export const ILLEGAL_TRANSITION = 'LSI01';

export class IllegalTransitionError extends Error {
  override name = 'IllegalTransitionError';
}

/**
 * Who the audit log names for the changes of this transaction: an API key
 * (`key:<id>`), the relayer reporting the chain (`chain`), a task. Set once per
 * transaction, before its first change.
 */
export async function actAs(client: pg.ClientBase, actor: string): Promise<void> {
  await client.query(`select set_config('issuer.actor', $1, true)`, [actor]);
}

/**
 * Moves a row to `to` if it is in one of `from` (checked under a row lock, so
 * concurrent requests see each other), with the reason the audit log keeps and
 * any other columns to set. Returns whether it moved: false when the row is not
 * in `from` (someone else moved it first). The database refuses what its
 * transition table does not allow, whatever `from` says.
 */
export async function transition(
  client: pg.ClientBase,
  entity: Entity,
  id: bigint | string,
  from: string[],
  to: string,
  reason: string | null,
  set: Record<string, unknown> = {},
): Promise<boolean> {
  const columns = Object.keys(set);
  const assignments = ['state = $2', 'state_reason = $3', ...columns.map((c, i) => `${c} = $${i + 5}`)].join(', ');
  try {
    const { rowCount } = await client.query(`update ${TABLES[entity]} set ${assignments} where id = $1 and state = any($4::text[])`, [
      id,
      to,
      reason,
      from,
      ...columns.map((c) => set[c]),
    ]);
    return rowCount === 1;
  } catch (error) {
    if ((error as { code?: string }).code === ILLEGAL_TRANSITION) throw new IllegalTransitionError((error as Error).message);
    throw error;
  }
}
