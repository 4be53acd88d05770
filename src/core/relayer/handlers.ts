import type pg from 'pg';
import type { RelayerContext } from './context.js';
import { backoffSeconds } from './intents.js';
import type { HandlerHook } from './schema.js';
import type { IntentError, SettledIntent } from './types.js';

/** One thing to tell an app: this hook, for this intent. */
export interface HandlerCall {
  intentId: bigint;
  hook: HandlerHook;
}

/**
 * Tells the apps what happened to these intents (in the order given), inside the
 * relayer's transaction, so an app's rows change together with the intent's state.
 *
 * A handler that throws affects only its own intent: its changes are rolled back
 * to a savepoint, the intent's state change stands, and the call is recorded in
 * relayer_handler_calls to be retried with backoff (`retryHandlers`). An intent
 * with calls still owed gets new ones queued behind them, so each app sees its
 * intent's hooks in the order they happened, each exactly once.
 */
export async function callHandlers(client: pg.PoolClient, ctx: RelayerContext, calls: HandlerCall[]): Promise<void> {
  const hooks = new Set(calls.map((c) => c.hook));
  if (![...ctx.kinds.values()].some((kind) => [...hooks].some((hook) => kind[hook]))) return;
  const intents = await loadIntents(client, [...new Set(calls.map((c) => c.intentId))]);
  const wanted = calls.filter((c) => intents.has(c.intentId) && handlerOf(ctx, intents.get(c.intentId)!, c.hook));
  if (wanted.length === 0) return;
  const { rows } = await client.query<{ intent_id: bigint }>('select distinct intent_id from relayer_handler_calls where intent_id = any($1)', [
    wanted.map((c) => c.intentId),
  ]);
  const queued = new Set(rows.map((r) => r.intent_id));
  const now = wanted.filter((c) => !queued.has(c.intentId));
  for (const call of wanted.filter((c) => queued.has(c.intentId))) await owe(client, call, null, 0);

  // The common case is that every handler succeeds: one savepoint for them all. Only when one
  // throws are they run again one by one, each under its own savepoint, to keep the others.
  if (now.length === 0) return;
  await client.query('savepoint ledgersync_handlers');
  try {
    for (const call of now) await invoke(client, ctx, intents.get(call.intentId)!, call.hook);
    await client.query('release savepoint ledgersync_handlers');
    return;
  } catch {
    await client.query('rollback to savepoint ledgersync_handlers');
  }
  const failed = new Set<bigint>();
  for (const call of now) {
    if (failed.has(call.intentId)) {
      await owe(client, call, null, 0);
      continue;
    }
    const error = await invokeAlone(client, ctx, intents.get(call.intentId)!, call.hook);
    if (error) {
      failed.add(call.intentId);
      await owe(client, call, error, 1);
      reportFailure(ctx, intents.get(call.intentId)!, call.hook, error, 1);
    }
  }
}

/**
 * Calls owed handlers again, the oldest first and one per intent at a time (a
 * later hook waits for an earlier one). Returns how many were tried.
 */
export async function retryHandlers(client: pg.PoolClient, ctx: RelayerContext): Promise<number> {
  const { rows } = await client.query<{ id: bigint; intent_id: bigint; hook: HandlerHook; attempts: number }>(
    `select c.id, c.intent_id, c.hook, c.attempts
     from relayer_handler_calls c join relayer_intents i on i.id = c.intent_id
     where i.chain = $1 and i.signer = $2 and c.next_attempt_at <= now()
       and c.id = (select min(id) from relayer_handler_calls o where o.intent_id = c.intent_id)
     order by c.id limit $3
     for update of c, i skip locked`,
    [ctx.chain, ctx.signer, ctx.batchSize],
  );
  if (rows.length === 0) return 0;
  const intents = await loadIntents(client, rows.map((r) => r.intent_id));
  for (const row of rows) {
    const intent = intents.get(row.intent_id)!;
    const error = handlerOf(ctx, intent, row.hook) ? await invokeAlone(client, ctx, intent, row.hook) : undefined;
    if (!error) {
      await client.query('delete from relayer_handler_calls where id = $1', [row.id]);
      if (row.attempts > 0) ctx.logger.info({ intent: intent.id.toString(), kind: intent.kind, hook: row.hook, attempts: row.attempts }, 'app handler succeeded after failing');
      continue;
    }
    await client.query(
      `update relayer_handler_calls set attempts = attempts + 1, error = $2, next_attempt_at = now() + make_interval(secs => $3) where id = $1`,
      [row.id, JSON.stringify(error), backoffSeconds(row.attempts + 1)],
    );
    reportFailure(ctx, intent, row.hook, error, row.attempts + 1);
  }
  return rows.length;
}

/** Runs one handler under its own savepoint; returns its error, or undefined when it succeeded. */
async function invokeAlone(client: pg.PoolClient, ctx: RelayerContext, intent: SettledIntent, hook: HandlerHook): Promise<IntentError | undefined> {
  await client.query('savepoint ledgersync_handler');
  try {
    await invoke(client, ctx, intent, hook);
    await client.query('release savepoint ledgersync_handler');
    return undefined;
  } catch (error) {
    await client.query('rollback to savepoint ledgersync_handler');
    const { name, message } = error instanceof Error ? error : { name: 'Error', message: String(error) };
    return { name, message: message.split('\n')[0]! };
  }
}

async function invoke(client: pg.PoolClient, ctx: RelayerContext, intent: SettledIntent, hook: HandlerHook): Promise<void> {
  await handlerOf(ctx, intent, hook)?.(intent, client, ctx.ports);
}

function handlerOf(ctx: RelayerContext, intent: SettledIntent, hook: HandlerHook) {
  return ctx.kinds.get(intent.kind)?.[hook];
}

/** Records a call still owed; `attempts` 0 means queued behind an earlier one, not failed. */
async function owe(client: pg.PoolClient, call: HandlerCall, error: IntentError | null, attempts: number): Promise<void> {
  await client.query(
    `insert into relayer_handler_calls (intent_id, hook, attempts, error, next_attempt_at) values ($1, $2, $3, $4, now() + make_interval(secs => $5))`,
    [call.intentId, call.hook, attempts, error && JSON.stringify(error), attempts > 0 ? backoffSeconds(attempts) : 0],
  );
}

function reportFailure(ctx: RelayerContext, intent: SettledIntent, hook: HandlerHook, error: IntentError, attempts: number): void {
  ctx.metrics.handlerFailed(intent.kind, hook);
  ctx.logger.warn(
    { intent: intent.id.toString(), kind: intent.kind, hook, attempts, error: error.message, retryInSeconds: backoffSeconds(attempts) },
    'app handler failed; its changes were rolled back and it will be called again (other intents go on)',
  );
}

async function loadIntents(client: pg.PoolClient, ids: bigint[]): Promise<Map<bigint, SettledIntent>> {
  const { rows } = await client.query<{
    id: bigint;
    idempotency_key: string;
    kind: string;
    chain: string;
    target: string;
    function_name: string;
    args: SettledIntent['args'];
    sender: string | null;
    state: SettledIntent['state'];
    transaction_id: SettledIntent['transactionId'];
    block_number: bigint | null;
    events: SettledIntent['events'] | null;
    error: SettledIntent['error'];
  }>(
    `select id, idempotency_key, kind, chain, target, function_name, args, sender, state, transaction_id, block_number, events, error
     from relayer_intents where id = any($1)`,
    [ids],
  );
  return new Map(
    rows.map((row) => [
      row.id,
      {
        id: row.id,
        idempotencyKey: row.idempotency_key,
        kind: row.kind,
        chain: row.chain,
        target: row.target,
        functionName: row.function_name,
        args: row.args,
        sender: row.sender,
        state: row.state,
        transactionId: row.transaction_id,
        blockNumber: row.block_number,
        events: row.events ?? [],
        error: row.error,
      },
    ]),
  );
}
