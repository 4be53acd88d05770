import { GrpcTypes } from '@mysten/sui/grpc';
import type { JsonValue } from '../../../core/chain.js';
import type { InFlightIntent, Observation } from '../../../core/relayer/lifecycle.js';
import type { DecodedEvent, IntentError } from '../../../core/relayer/types.js';
import type { SuiRelayerContext } from './context.js';
import { applyEffects } from './effects.js';
import { executionError } from './errors.js';
import { checkpointDigests, getObjects, getTransactions, ownedInputs, spent, type Answer } from './reads.js';

/**
 * What the chain says of each intent in flight. A transaction is `included` once it
 * is in a checkpoint (its number and digest are the block), and checkpoints are
 * final: an included intent stays so. Executed but not yet checkpointed is
 * `waiting` (its coins are freed already: effects are final). When the chain knows
 * none of an intent's transactions and an object version its latest one consumes
 * was spent by another transaction, it can never execute: that is Sui's
 * `sequenceTaken`, and the intent is signed again with other coins. Objects are
 * read before the transaction is asked again, so a transaction that executes
 * meanwhile is never taken for a lost one. Anything not known for sure is `unknown`.
 */
export async function observe(ctx: SuiRelayerContext, intents: InFlightIntent[]): Promise<Map<bigint, Observation>> {
  const seen = new Map<bigint, Observation>();
  for (const intent of intents) if (intent.state === 'included') seen.set(intent.id, { kind: 'stillIncluded' });
  const flying = intents.filter((i) => i.state === 'broadcast');
  if (flying.length === 0) return seen;

  const answers = await getTransactions(ctx, flying.flatMap((i) => i.transactions.map((t) => t.id)));
  for (const answer of answers.values()) if (executed(answer)) await applyEffects(ctx.pool, ctx, answer.effects!);
  const checkpoints = await checkpointDigests(ctx, [...new Set([...answers.values()].flatMap((a) => (executed(a) && a.checkpoint !== undefined ? [a.checkpoint] : [])))]);

  const unheardOf: InFlightIntent[] = [];
  for (const intent of flying) {
    const found = intent.transactions.map((t) => answers.get(t.id));
    const done = found.find(executed);
    if (done) {
      const hash = done.checkpoint === undefined ? undefined : checkpoints.get(done.checkpoint);
      if (done.checkpoint === undefined) seen.set(intent.id, { kind: 'waiting' });
      else if (hash === undefined) seen.set(intent.id, { kind: 'unknown' });
      else seen.set(intent.id, { kind: 'included', inclusion: inclusion(done, hash) });
    } else if (found.includes('unknown') || found.includes(undefined)) {
      seen.set(intent.id, { kind: 'unknown' });
    } else {
      unheardOf.push(intent);
    }
  }
  for (const [id, observation] of await spentElsewhere(ctx, unheardOf)) seen.set(id, observation);
  return seen;
}

/** For intents the chain has never heard of: `sequenceTaken` if an object version their latest transaction consumes is spent, else `waiting`. */
async function spentElsewhere(ctx: SuiRelayerContext, intents: InFlightIntent[]): Promise<Map<bigint, Observation>> {
  const seen = new Map<bigint, Observation>();
  if (intents.length === 0) return seen;
  const latest = new Map(intents.map((i) => [i.id, i.transactions.at(-1)!.id]));
  const { rows } = await ctx.pool.query<{ id: string; raw: Buffer }>('select id, raw from relayer_transactions where id = any($1)', [[...latest.values()]]);
  const inputs = new Map(rows.map((r) => [r.id, ownedInputs(r.raw)]));
  const states = await getObjects(ctx, [...new Set([...inputs.values()].flat().map((r) => r.objectId))]);
  const suspects: InFlightIntent[] = [];
  for (const intent of intents) {
    const refs = inputs.get(latest.get(intent.id)!) ?? [];
    const now = refs.map((r) => states.get(r.objectId));
    if (now.includes('unknown') || now.includes(undefined)) seen.set(intent.id, { kind: 'unknown' });
    else if (refs.some((r, i) => spent(ctx, r.version, now[i]!, r.owner))) suspects.push(intent);
    else seen.set(intent.id, { kind: 'waiting' });
  }
  const again = await getTransactions(ctx, suspects.map((i) => latest.get(i.id)!));
  for (const intent of suspects) {
    const answer = again.get(latest.get(intent.id)!);
    seen.set(intent.id, answer === null ? { kind: 'sequenceTaken' } : { kind: answer === 'unknown' ? 'unknown' : 'waiting' });
  }
  return seen;
}

/** Why a transaction of the intent failed on chain, from its effects. */
export async function explainFailure(ctx: SuiRelayerContext, intent: InFlightIntent): Promise<IntentError> {
  const answers = await getTransactions(ctx, intent.transactions.map((t) => t.id));
  for (const t of intent.transactions) {
    const answer = answers.get(t.id);
    if (executed(answer) && !answer.effects!.status?.success) return executionError(answer.effects!.status?.error, BigInt(t.fees.gasBudget ?? '0'));
  }
  return { name: 'ExecutionFailed', message: 'the transaction failed on chain; its effects could not be read again to say why' };
}

function executed(answer: Answer<GrpcTypes.ExecutedTransaction> | undefined): answer is GrpcTypes.ExecutedTransaction {
  return answer !== null && answer !== 'unknown' && answer !== undefined && answer.effects !== undefined;
}

function inclusion(tx: GrpcTypes.ExecutedTransaction, checkpointDigest: string) {
  return {
    transactionId: tx.digest!,
    blockNumber: tx.checkpoint!,
    blockHash: checkpointDigest,
    succeeded: tx.effects!.status?.success === true,
    // `status` as the core reads it back for an inclusion it recorded ('success' or not).
    receipt: { status: tx.effects!.status?.success === true ? 'success' : 'failure', checkpoint: tx.checkpoint!.toString(), effects: GrpcTypes.TransactionEffects.toJson(tx.effects!) as JsonValue },
    events: (tx.events?.events ?? []).map(
      (event, eventIndex): DecodedEvent => ({
        emitter: `${event.packageId}::${event.module}`,
        eventIndex,
        name: (event.eventType ?? '').split('<')[0]!.split('::').at(-1)!,
        args: ((GrpcTypes.Event.toJson(event) as { json?: JsonValue }).json ?? {}) as Record<string, JsonValue>,
      }),
    ),
  };
}
