import type pg from 'pg';
import type { ChainKey, JsonValue } from '../chain.js';
import type { IntentState } from './schema.js';
import type { IntentKind } from './types.js';

/**
 * A transaction the user signed on their device, as the outbox takes it instead of a call:
 * EVM: `{ transaction: '0x…' }`, the serialized signed transaction (EIP-155, legacy, EIP-2930 or EIP-1559);
 * Sui: `{ transaction: '<base64 TransactionData BCS>', signatures: ['<base64 user signature>'] }`, its
 * gas paid by the user, or by one of the platform's signers when the bytes came from
 * `sponsorTransaction` (the relayer then adds the sponsor's signature when it executes them).
 */
export interface SignedSubmission {
  transaction: string;
  signatures?: string[];
}

export interface SubmitIntent {
  /** Unique across all intents: submitting it again returns the first intent and sends nothing more. */
  idempotencyKey: string;
  /** Its kind names the chain and what the call is (the ABI). */
  kind: string;
  /** The call the platform signs; required unless `signed` is given (then it is read from the signed bytes). */
  functionName?: string;
  args?: readonly unknown[];
  /**
   * A transaction the user signed: stored and sent as is, exactly once, followed to finality like any
   * intent. It must call what the kind calls (its contract, or `target`); `value` is read from it.
   */
  signed?: SignedSubmission;
  value?: bigint;
  /** The contract called; default: the kind's contract from the deployments file. A contract created at run time (a campaign) is named here. */
  target?: string;
  /**
   * Who signs: an address this deployment holds a key for, or a role (default `default`, the chain's first signer).
   * For a `signed` transaction: whose relayer sends it (a sponsored Sui transaction goes to its sponsor's).
   */
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
  /**
   * A transaction the user signed, decoded and checked against the kind and its target (chain,
   * what it calls, the sender's signature); throws IntentRejectedError when it does not fit.
   * Absent: this family takes no signed transactions.
   */
  acceptSigned?(kind: IntentKind, signed: SignedSubmission, target: string): Promise<AcceptedSigned>;
  /**
   * In the submitting transaction, once the intent exists: binds what the transaction consumes of the
   * platform's (Sui: the sponsor's reserved gas coin) to it; throws IntentRejectedError when it cannot.
   */
  bindSigned?(client: pg.ClientBase, chain: ChainKey, accepted: AcceptedSigned, intentId: bigint): Promise<void>;
}

/** A user-signed transaction as the family read it: what the intent records, and the bytes the relayer sends. */
export interface AcceptedSigned {
  /** The account that signed it (stored form). */
  sender: string;
  /** Set when a platform signer pays its gas (Sui sponsorship): that signer's relayer sends it. */
  sponsor?: string;
  /** Its id (hash, digest): fixed by the bytes, so it can only ever be one transaction. */
  transactionId: string;
  /** Its place in the sender's sequence (EVM: the nonce); null where the family has none (Sui). */
  sequence: bigint | null;
  /** The stored bytes: every (re)broadcast sends exactly these. */
  raw: Uint8Array;
  /** The call as the family records it (EVM: the calldata) and in JSON form for people and handlers. */
  payload: string;
  functionName: string;
  args: JsonValue;
  value: bigint;
  /** The most it may spend on execution (EVM gas limit, Sui gas budget) and its fees in the family's terms. */
  feeLimit: bigint;
  fees: Record<string, string>;
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
      const target = intent.target !== undefined ? { target: chain.codec.normalizeAddress(intent.target), contract: null } : chain.codec.defaultTarget(kind);
      if (!target?.target) {
        throw new IntentRejectedError(
          intent.target !== undefined ? `target ${intent.target} is not an address on ${chain.key}` : `${kind.name} names no target, and its contract has no deployment recorded on ${chain.key}`,
        );
      }
      if (intent.signed !== undefined) {
        if (intent.functionName !== undefined || intent.args !== undefined || intent.value !== undefined) {
          throw new IntentRejectedError('a signed transaction carries its own call: give either signed or functionName and args, not both (nor value)');
        }
        return submitSigned(client, chain, kind, { target: target.target, contract: target.contract }, intent);
      }
      if (intent.functionName === undefined || intent.args === undefined) throw new IntentRejectedError(`an intent of ${kind.name} needs functionName and args (or a signed transaction)`);
      const signer = resolveSigner(chain, intent.signer ?? 'default');
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
      const { rows } = await client.query<{ id: bigint; state: IntentState; kind: string; target: string; payload: string; value: string; sender: string | null }>(
        'select id, state, kind, target, payload, value::text, sender from relayer_intents where idempotency_key = $1',
        [intent.idempotencyKey],
      );
      const existing = rows[0]!;
      if (existing.kind !== kind.name || existing.target !== target.target || existing.payload !== payload || existing.value !== value || existing.sender !== null) {
        throw new IdempotencyConflictError(`idempotency key ${intent.idempotencyKey} was used for a different request (intent ${existing.id})`);
      }
      return { id: existing.id, state: existing.state, created: false };
    },
  };
}

/**
 * A transaction the user signed: checked by its family, then recorded already `signed`, its
 * bytes stored with it in the caller's transaction (the relayer never signs it nor takes a
 * sequence number of the platform's for it: it sends these bytes and follows them). Its
 * hash is fixed, so it can only ever have one effect; the same bytes under another
 * idempotency key are refused, under the same key they return the first intent.
 */
async function submitSigned(
  client: pg.ClientBase,
  chain: OutboxChain,
  kind: IntentKind,
  target: { target: string; contract: string | null },
  intent: SubmitIntent,
): Promise<SubmittedIntent> {
  if (!chain.codec.acceptSigned) throw new IntentRejectedError(`${chain.key} takes no signed transactions`);
  const accepted = await chain.codec.acceptSigned(kind, intent.signed!, target.target);
  if (chain.signers.some((s) => s.address === accepted.sender)) {
    throw new IntentRejectedError(`the transaction is signed by ${accepted.sender}, a signer of this platform: submit it as a call (functionName and args), so its relayer keeps its sequence`);
  }
  const signer = accepted.sponsor !== undefined ? sponsorOf(chain, accepted.sponsor, intent.signer) : resolveSigner(chain, intent.signer ?? 'default');
  // Refused after its row is written (bytes already taken, a sponsorship expired), it leaves nothing in the caller's transaction.
  await client.query('savepoint ledgersync_submit_signed');
  try {
    const submitted = await recordSigned(client, chain, kind, target, intent, accepted, signer);
    await client.query('release savepoint ledgersync_submit_signed');
    return submitted;
  } catch (error) {
    await client.query('rollback to savepoint ledgersync_submit_signed');
    throw error;
  }
}

async function recordSigned(
  client: pg.ClientBase,
  chain: OutboxChain,
  kind: IntentKind,
  target: { target: string; contract: string | null },
  intent: SubmitIntent,
  accepted: AcceptedSigned,
  signer: string,
): Promise<SubmittedIntent> {
  const inserted = await client.query<{ id: bigint; state: IntentState }>(
    `insert into relayer_intents (idempotency_key, kind, chain, signer, sender, contract, target, function_name, args, payload, value, submitted_by, state, sequence, fee_limit)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'signed', $13, $14)
     on conflict (idempotency_key) do nothing
     returning id, state`,
    [
      intent.idempotencyKey,
      kind.name,
      chain.key,
      signer,
      accepted.sender,
      target.contract,
      target.target,
      accepted.functionName,
      JSON.stringify(accepted.args),
      accepted.payload,
      accepted.value.toString(),
      intent.submittedBy ?? null,
      accepted.sequence,
      accepted.feeLimit.toString(),
    ],
  );
  const created = inserted.rows[0];
  if (!created) {
    const { rows } = await client.query<{ id: bigint; state: IntentState; kind: string; transactions: string[] }>(
      `select i.id, i.state, i.kind, array(select t.id from relayer_transactions t where t.intent_id = i.id) as transactions
       from relayer_intents i where i.idempotency_key = $1`,
      [intent.idempotencyKey],
    );
    const existing = rows[0]!;
    if (existing.kind !== kind.name || !existing.transactions.includes(accepted.transactionId)) {
      throw new IdempotencyConflictError(`idempotency key ${intent.idempotencyKey} was used for a different request (intent ${existing.id})`);
    }
    return { id: existing.id, state: existing.state, created: false };
  }
  // A family without sequence numbers (Sui) orders an intent by its id, as the relayer does for its own.
  if (accepted.sequence === null) await client.query('update relayer_intents set sequence = id where id = $1', [created.id]);
  const stored = await client.query(
    `insert into relayer_transactions (id, intent_id, chain, signer, sequence, raw, fees, signed_by)
     values ($1, $2, $3, $4, $5, $6, $7, 'user') on conflict (id) do nothing`,
    [accepted.transactionId, created.id, chain.key, accepted.sender, accepted.sequence ?? created.id, Buffer.from(accepted.raw), JSON.stringify(accepted.fees)],
  );
  if (stored.rowCount === 0) {
    const { rows } = await client.query<{ idempotency_key: string }>(
      'select i.idempotency_key from relayer_transactions t join relayer_intents i on i.id = t.intent_id where t.id = $1',
      [accepted.transactionId],
    );
    throw new IntentRejectedError(`transaction ${accepted.transactionId} was already submitted${rows[0] ? ` (idempotency key ${rows[0].idempotency_key})` : ''}: it is sent once`);
  }
  await chain.codec.bindSigned?.(client, chain.key, accepted, created.id);
  await client.query('select pg_notify($1, $2)', [INTENTS_CHANNEL, chain.key]);
  return { ...created, created: true };
}

/** The platform signer a sponsored transaction names as its gas owner: one of this deployment's, and the one asked for, if any. */
function sponsorOf(chain: OutboxChain, sponsor: string, wanted: string | undefined): string {
  if (!chain.signers.some((s) => s.address === sponsor)) throw new IntentRejectedError(`the transaction's gas is paid by ${sponsor}, which is not a signer of this platform on ${chain.key}`);
  if (wanted !== undefined && resolveSigner(chain, wanted) !== sponsor) throw new IntentRejectedError(`the transaction is sponsored by ${sponsor}, not by signer ${wanted}`);
  return sponsor;
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
