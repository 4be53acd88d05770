import type pg from 'pg';
import { encodeFunctionData, type Address, type Hex } from 'viem';
import { findDeployment } from '../chain/evm/deployments.js';
import { toJson } from '../indexer/decode.js';
import type { IntentState } from './schema.js';
import type { IntentKind } from './types.js';

export interface SubmitIntent {
  /** Unique across all intents: submitting it again returns the first intent and sends nothing more. */
  idempotencyKey: string;
  kind: string;
  functionName: string;
  args: readonly unknown[];
  value?: bigint;
  /** Who asks: the id of the API key of an HTTP request (that key may read the intent back), else absent. */
  submittedBy?: string;
}

export interface SubmittedIntent {
  id: bigint;
  state: IntentState;
  /** False when the idempotency key was already known (this is the earlier intent). */
  created: boolean;
}

export class IntentRejectedError extends Error {
  override name = 'IntentRejectedError';
}

/** The idempotency key is taken by an intent that asks for something else. */
export class IdempotencyConflictError extends Error {
  override name = 'IdempotencyConflictError';
}

/** The channel the relayer listens on; a NOTIFY is delivered only when the submitting transaction commits. */
export const INTENTS_CHANNEL = 'ledgersync_intents';

export interface Outbox {
  /** The address that signs this outbox's intents (lower case). */
  signer: Address;
  /**
   * Records an intent in the caller's transaction (`client` must be inside BEGIN):
   * nothing is sent unless that transaction commits, and a rollback leaves nothing.
   */
  submit(client: pg.ClientBase, intent: SubmitIntent): Promise<SubmittedIntent>;
}

export function createOutbox(options: {
  chainId: number;
  signer: Address;
  deploymentsFile: string;
  kinds: IntentKind[];
}): Outbox {
  const kinds = new Map(options.kinds.map((k) => [k.name, k]));
  return {
    signer: options.signer.toLowerCase() as Address,
    async submit(client, intent) {
      const kind = kinds.get(intent.kind);
      if (!kind) throw new IntentRejectedError(`unknown intent kind ${intent.kind}; known: ${[...kinds.keys()].join(', ')}`);
      const deployment = findDeployment(options.deploymentsFile, options.chainId, kind.contract);
      if (!deployment) throw new IntentRejectedError(`${kind.contract} has no deployment on chain ${options.chainId} in ${options.deploymentsFile}`);
      // Encoding now rejects bad arguments at submit time, in the caller's request, not later in the relayer.
      let data: Hex;
      try {
        data = encodeFunctionData({ abi: kind.abi, functionName: intent.functionName, args: intent.args });
      } catch (error) {
        throw new IntentRejectedError(`cannot encode ${kind.contract}.${intent.functionName}: ${(error as Error).message.split('\n')[0]}`);
      }
      const inserted = await client.query<{ id: bigint; state: IntentState }>(
        `insert into relayer_intents (idempotency_key, kind, chain_id, signer, contract, to_address, function_name, args, data, value, submitted_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         on conflict (idempotency_key) do nothing
         returning id, state`,
        [
          intent.idempotencyKey,
          kind.name,
          options.chainId,
          options.signer.toLowerCase(),
          kind.contract,
          deployment.address.toLowerCase(),
          intent.functionName,
          JSON.stringify(toJson([...intent.args])),
          data,
          (intent.value ?? 0n).toString(),
          intent.submittedBy ?? null,
        ],
      );
      if (inserted.rows[0]) {
        await client.query('select pg_notify($1, $2)', [INTENTS_CHANNEL, String(options.chainId)]);
        return { ...inserted.rows[0], created: true };
      }
      const { rows } = await client.query<{ id: bigint; state: IntentState; kind: string; data: Hex; value: string }>(
        'select id, state, kind, data, value::text from relayer_intents where idempotency_key = $1',
        [intent.idempotencyKey],
      );
      const existing = rows[0]!;
      if (existing.kind !== kind.name || existing.data !== data || existing.value !== (intent.value ?? 0n).toString()) {
        throw new IdempotencyConflictError(`idempotency key ${intent.idempotencyKey} was used for a different request (intent ${existing.id})`);
      }
      return { id: existing.id, state: existing.state, created: false };
    },
  };
}
