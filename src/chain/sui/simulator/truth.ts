/**
 * The ground truth an indexer is compared with: from the same records the RPC serves, the
 * transactions, events and balance changes that concern some packages and addresses.
 */
import { normalizeSuiAddress } from '@mysten/sui/utils';
import type { CheckpointRecord, EventRecord } from './records.js';

export interface TruthQuery {
  packages?: string[];
  addresses?: string[];
  /** Inclusive checkpoint range; defaults: 0 and the current height. */
  from?: number;
  to?: number;
}

export interface Truth {
  /** Transactions that called one of `packages` (failed ones too), emitted a relevant event, changed a watched balance or were sent by a watched address. */
  transactions: { digest: string; checkpoint: number; index: number; sender: string; success: boolean }[];
  /** Events whose package (or type's address) is one of `packages`, in chain order. */
  events: (EventRecord & { checkpoint: number; transactionIndex: number; eventIndex: number; transactionDigest: string })[];
  /** Balance changes of `addresses`, in chain order. */
  balanceChanges: { checkpoint: number; transactionIndex: number; transactionDigest: string; address: string; coinType: string; amount: bigint }[];
}

const addressOf = (path: string) => normalizeSuiAddress(path.slice(0, path.indexOf('::')));

export function groundTruth(query: TruthQuery, height: number, checkpoint: (seq: number) => CheckpointRecord): Truth {
  const packages = new Set((query.packages ?? []).map((p) => normalizeSuiAddress(p)));
  const addresses = new Set((query.addresses ?? []).map((a) => normalizeSuiAddress(a)));
  const truth: Truth = { transactions: [], events: [], balanceChanges: [] };
  const to = Math.min(query.to ?? height, height);
  for (let seq = query.from ?? 0; seq <= to; seq++) {
    checkpoint(seq).transactions.forEach((tx, index) => {
      let relevant = addresses.has(tx.sender) || tx.moveCalls.some((call) => packages.has(addressOf(call)));
      tx.events.forEach((event, eventIndex) => {
        if (!packages.has(event.packageId) && !packages.has(addressOf(event.eventType))) return;
        relevant = true;
        const { packageId, module, sender, eventType, bcs, json } = event;
        truth.events.push({ packageId, module, sender, eventType, bcs, json, checkpoint: seq, transactionIndex: index, eventIndex, transactionDigest: tx.digest });
      });
      for (const change of tx.balanceChanges) {
        if (!addresses.has(change.address)) continue;
        relevant = true;
        truth.balanceChanges.push({ checkpoint: seq, transactionIndex: index, transactionDigest: tx.digest, ...change });
      }
      if (relevant) truth.transactions.push({ digest: tx.digest, checkpoint: seq, index, sender: tx.sender, success: tx.status.success });
    });
  }
  return truth;
}
