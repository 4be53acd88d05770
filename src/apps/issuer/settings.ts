import type { ChainKey } from '../../engine/index.js';
import type { AmlPolicy } from './aml.js';

/** What the issuer platform's actions and handlers are configured with. */
export interface IssuerSettings {
  chain: ChainKey;
  /** The signer (role or address) that sends the platform's transactions; it holds the contracts' platform roles. */
  platformSigner: string;
  aml: AmlPolicy;
  /** A deployment with no final answer from the chain after this long returns the campaign to `approved` (seed 003: 120 s). */
  deployTimeoutSeconds: number;
}

/** An intent's idempotency key: one per business object, step and attempt, so a retry is a new intent and a replay is not. */
export const intentKey = (entity: string, id: bigint | string, step: string, attempt = 1) => `issuer.${entity}:${id}:${step}:${attempt}`;

/** graphile-worker's way to queue a job inside the caller's transaction. */
export const ADD_JOB = 'select graphile_worker.add_job($1, $2::json, run_at := $3, job_key := $4)';
