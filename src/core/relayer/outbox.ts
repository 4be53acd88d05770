import type pg from 'pg';
import type { ChainKey, JsonValue } from '../chain.js';
import type { IntentState } from './schema.js';
import type { IntentKind } from './types.js';

export interface SubmitIntent {
  /** Unique across all intents: submitting it again returns the first intent and sends nothing more. */
  idempotencyKey: string;
  /** Its kind names the chain and what the call is (the ABI). */
  kind: string;
  functionName: string;
  args: readonly unknown[];
  value?: bigint;
  /** The contract called; default: the kind's contract from the deployments file. A contract created at run time (a campaign) is named here. */
  target?: string;
  /** Who signs: an address this deployment holds a key for, or a role (default `default`, the chain's first signer). */
  signer?: string;
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

/** The channel the relayers listen on (payload: the chain key); a NOTIFY is delivered only when the submitting transaction commits. */
export const INTENTS_CHANNEL = 'ledgersync_intents';

/** What the outbox needs from a chain's family to accept an intent when it is submitted, in the caller's request. */
export interface IntentCodec {
  /** The call as the family signs it, and its arguments in JSON form; throws IntentRejectedError on bad arguments. */
  encode(kind: IntentKind, functionName: string, args: readonly unknown[]): { payload: string; args: JsonValue };
  /** Where the call goes when the intent does not say: the kind's contract, if its address is recorded. */
  defaultTarget(kind: IntentKind): { target: string; contract: string } | undefined;
  /** The stored form of a target or signer address, or undefined when it is not one. */
  normalizeAddress(value: string): string | undefined;
}

/** A chain the outbox can write to: its codec, and the signers this deployment holds keys for. */
export interface OutboxChain {
  key: ChainKey;
  codec: IntentCodec;
  signers: Array<{ address: string; roles: string[] }>;
}

export interface Outbox {
  /**
   * Records an intent in the caller's transaction (`client` must be inside BEGIN):
   * nothing is sent unless that transaction commits, and a rollback leaves nothing.
   */
  submit(client: pg.ClientBase, intent: SubmitIntent): Promise<SubmittedIntent>;
  /** The signers this deployment holds on a chain (addresses as stored). */
  signers(chain: ChainKey): Array<{ address: string; roles: string[] }>;
}

export function createOutbox(options: { chains: OutboxChain[]; kinds: IntentKind[] }): Outbox {
  const kinds = new Map(options.kinds.map((k) => [k.name, k]));
  const chains = new Map(options.chains.map((c) => [c.key, c]));
  return {
    signers: (chain) => chains.get(chain)?.signers ?? [],
    async submit(client, intent) {
      const kind = kinds.get(intent.kind);
      if (!kind) throw new IntentRejectedError(`unknown intent kind ${intent.kind}; known: ${[...kinds.keys()].join(', ')}`);
      const chain = chains.get(kind.chain);
      if (!chain) throw new IntentRejectedError(`chain ${kind.chain} of ${kind.name} is not configured here`);
      const signer = resolveSigner(chain, intent.signer ?? 'default');
      const target = intent.target !== undefined ? { target: chain.codec.normalizeAddress(intent.target), contract: null } : chain.codec.defaultTarget(kind);
      if (!target?.target) {
        throw new IntentRejectedError(
          intent.target !== undefined ? `target ${intent.target} is not an address on ${chain.key}` : `${kind.name} names no target, and its contract has no deployment recorded on ${chain.key}`,
        );
      }
      // Encoding now rejects bad arguments at submit time, in the caller's request, not later in the relayer.
      const { payload, args } = chain.codec.encode(kind, intent.functionName, intent.args);
      const value = (intent.value ?? 0n).toString();
      const inserted = await client.query<{ id: bigint; state: IntentState }>(
        `insert into relayer_intents (idempotency_key, kind, chain, signer, contract, target, function_name, args, payload, value, submitted_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         on conflict (idempotency_key) do nothing
         returning id, state`,
        [intent.idempotencyKey, kind.name, chain.key, signer, target.contract, target.target, intent.functionName, JSON.stringify(args), payload, value, intent.submittedBy ?? null],
      );
      if (inserted.rows[0]) {
        await client.query('select pg_notify($1, $2)', [INTENTS_CHANNEL, chain.key]);
        return { ...inserted.rows[0], created: true };
      }
      const { rows } = await client.query<{ id: bigint; state: IntentState; kind: string; target: string; payload: string; value: string }>(
        'select id, state, kind, target, payload, value::text from relayer_intents where idempotency_key = $1',
        [intent.idempotencyKey],
      );
      const existing = rows[0]!;
      if (existing.kind !== kind.name || existing.target !== target.target || existing.payload !== payload || existing.value !== value) {
        throw new IdempotencyConflictError(`idempotency key ${intent.idempotencyKey} was used for a different request (intent ${existing.id})`);
      }
      return { id: existing.id, state: existing.state, created: false };
    },
  };
}

/** An address this deployment signs with, or a role one of its signers has. */
function resolveSigner(chain: OutboxChain, wanted: string): string {
  const address = chain.codec.normalizeAddress(wanted);
  const signer = address ? chain.signers.find((s) => s.address === address) : chain.signers.find((s) => s.roles.includes(wanted));
  if (!signer) {
    const held = chain.signers.map((s) => `${s.address}${s.roles.length > 0 ? ` (${s.roles.join(', ')})` : ''}`).join(', ') || 'none';
    throw new IntentRejectedError(`no signer ${wanted} on ${chain.key}: this deployment signs with ${held}`);
  }
  return signer.address;
}
