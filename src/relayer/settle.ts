import type pg from 'pg';
import type { RelayerContext } from './context.js';
import type { IntentKind, SettledIntent } from './types.js';

type Hook = 'onConfirmed' | 'onFailed' | 'onReorged';

/**
 * Tells the apps what happened to these intents, inside the relayer's
 * transaction: if a handler throws, the state change is rolled back with it and
 * retried on the next pass.
 */
export async function runHandlers(client: pg.PoolClient, ctx: RelayerContext, ids: bigint[], hook: Hook): Promise<void> {
  const wanted = ids.length > 0 && [...ctx.kinds.values()].some((k) => k[hook]);
  if (!wanted) return;
  const { rows } = await client.query<{
    id: bigint;
    idempotency_key: string;
    kind: string;
    function_name: string;
    args: SettledIntent['args'];
    state: SettledIntent['state'];
    transaction_hash: SettledIntent['transactionHash'];
    block_number: bigint | null;
    events: SettledIntent['events'] | null;
    error: SettledIntent['error'];
  }>(
    `select id, idempotency_key, kind, function_name, args, state, transaction_hash, block_number, events, error
     from relayer_intents where id = any($1) order by nonce nulls last, id`,
    [ids],
  );
  for (const row of rows) {
    const handler: IntentKind[Hook] = ctx.kinds.get(row.kind)?.[hook];
    if (!handler) continue;
    await handler(
      {
        id: row.id,
        idempotencyKey: row.idempotency_key,
        kind: row.kind,
        functionName: row.function_name,
        args: row.args,
        state: row.state,
        transactionHash: row.transaction_hash,
        blockNumber: row.block_number,
        events: row.events ?? [],
        error: row.error,
      },
      client,
    );
  }
}
