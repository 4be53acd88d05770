import { normalizeSuiAddress } from '@mysten/sui/utils';
import { CUSD } from '../../settings.js';
import { EVM_CUSD_SOURCE, EVM_P2P_SOURCE, SUI_SOURCE, type PaymentHandler, type RawEvent, type RecordDraft, type TradeBook } from '../types.js';
import { coinType, evmAddressArg, moveBytesText, signedInt, suiAddressArg, uint, ZERO_EVM_ADDRESS } from './args.js';
import { evmPayments, suiPayments, suiToken } from './pay.js';
import { suiTradeEvents } from './p2p.js';

/**
 * cUSD transfers: money that moved between addresses and is not a Pay payment
 * or an escrow step. A payment's or an escrow step's own token moves are that
 * record, never a transfer too: in a transaction with PaymentMade, the
 * Transfers payer → merchant (amount − fee) and payer → fee collector (fee) are
 * folded into the payment; with EscrowCreated / Released / Cancelled, the
 * Transfer seller → P2PTrade, P2PTrade → buyer, P2PTrade → seller of the
 * escrowed amount are folded into the step. Everything else is a `transfer`:
 * a mint (from 0x0) has no sender, a burn (to 0x0) no recipient. The recipient
 * is told (payment_received).
 */
export const evmCusdHandler: PaymentHandler = {
  name: 'cusd',
  derive(tx) {
    const folded = evmFoldedMoves(tx.events);
    const out: RecordDraft[] = [];
    for (const event of tx.events) {
      if (event.source !== EVM_CUSD_SOURCE || event.name !== 'Transfer') continue;
      const [from, to, value] = [evmAddressArg(event.args, 'from'), evmAddressArg(event.args, 'to'), uint(event.args, 'value')];
      const i = folded.findIndex((m) => m.from === from && m.value === value && (m.to === undefined ? to !== m.notTo : m.to === to));
      if (i >= 0) {
        folded.splice(i, 1);
        continue;
      }
      out.push({
        eventIndex: event.eventIndex,
        kind: 'transfer',
        token: CUSD.symbol,
        amount: value,
        fee: 0n,
        sender: from === ZERO_EVM_ADDRESS ? null : from,
        recipient: to === ZERO_EVM_ADDRESS ? null : to,
        reference: null,
        notify: to === ZERO_EVM_ADDRESS ? null : 'payment_received',
      });
    }
    return out;
  },
};

/** A token move a payment or escrow event explains: `to` exact, or any address but `notTo` (Pay's fee collector). */
interface FoldedMove {
  from: string;
  to?: string;
  notTo?: string;
  value: bigint;
}

function evmFoldedMoves(events: RawEvent[]): FoldedMove[] {
  const moves: FoldedMove[] = [];
  for (const p of evmPayments(events)) {
    moves.push({ from: p.payer, to: p.merchant, value: p.amount - p.fee });
    if (p.fee > 0n) moves.push({ from: p.payer, notTo: p.merchant, value: p.fee });
  }
  for (const e of events) {
    if (e.source !== EVM_P2P_SOURCE) continue;
    const escrow = e.emitter.toLowerCase();
    if (e.name === 'EscrowCreated') moves.push({ from: evmAddressArg(e.args, 'seller'), to: escrow, value: uint(e.args, 'amount') });
    if (e.name === 'EscrowReleased') moves.push({ from: escrow, to: evmAddressArg(e.args, 'buyer'), value: uint(e.args, 'amount') });
    if (e.name === 'EscrowCancelled') moves.push({ from: escrow, to: evmAddressArg(e.args, 'seller'), value: uint(e.args, 'amount') });
  }
  return moves;
}

/**
 * cUSD transfers on Sui, where a plain transfer emits no event: they are derived
 * from the transaction's cUSD balance changes (those the source sees: our
 * accounts'). What the transaction's Pay and P2P events explain is taken out
 * first, per address (PaymentMade: payer −amount, recipient +net; TradeCreated:
 * seller −amount; TradeCompleted: buyer +amount; TradeCancelled and
 * DisputeResolved: the seller or winner +the trade's amount, or, for a trade
 * never seen created, every positive change). What remains:
 * - each positive change is a transfer to that address, at the balance change's
 *   position; its sender is the one negative change if there is one, else the
 *   transaction's sender (the coins' owner: a sponsor pays gas only), or none for
 *   a mint (CUSDMinted) or when the recipient sent it; with several negative
 *   changes, the transaction's sender if it is one of them, else none;
 * - with one negative change, what it lost beyond what the visible recipients
 *   got went to addresses we do not follow: a transfer without recipient, at the
 *   negative change's position (a send to an outsider, a burn).
 * A failed transaction moved nothing (its balance changes are gas).
 */
export function suiCusdHandler(chain: { cusdType: string; packages: { pay: string; p2pTrade: string; cusd: string } }): PaymentHandler {
  const cusd = coinType(chain.cusdType);
  const cusdPackage = normalizeSuiAddress(chain.packages.cusd);
  return {
    name: 'cusd',
    derive(tx, { trades }) {
      const transaction = tx.events.find((e) => e.source === SUI_SOURCE && e.name === 'Transaction');
      if (transaction?.args.success === false) return [];
      const changes = tx.events
        .filter((e) => e.source === SUI_SOURCE && e.name === 'BalanceChange' && coinType(e.args.coinType) === cusd)
        .map((event) => ({ event, address: suiAddressArg(event.args, 'address'), delta: signedInt(event.args, 'amount') }));
      if (changes.length === 0) return [];

      const { perAddress, anyPositive } = suiExplained(tx.events, chain.packages, trades);
      for (const change of changes) {
        const explained = perAddress.get(change.address) ?? 0n;
        if (explained === 0n) continue;
        change.delta -= explained;
        perAddress.delete(change.address);
      }
      if (anyPositive) for (const change of changes) if (change.delta > 0n) change.delta = 0n;

      const positives = changes.filter((c) => c.delta > 0n);
      const negatives = changes.filter((c) => c.delta < 0n);
      const txSender = transaction ? suiAddressArg(transaction.args, 'sender') : null;
      const minted = tx.events.some((e) => e.name === 'CUSDMinted' && e.emitter.startsWith(`${cusdPackage}::`));
      const senderOf = (recipient: string): string | null => {
        if (negatives.length === 1) return negatives[0]!.address;
        if (negatives.length > 1) return negatives.find((n) => n.address === txSender)?.address ?? null;
        if (minted || txSender === recipient) return null;
        return txSender;
      };
      const transfer = (eventIndex: number, amount: bigint, sender: string | null, recipient: string | null): RecordDraft => ({
        eventIndex,
        kind: 'transfer',
        token: CUSD.symbol,
        amount,
        fee: 0n,
        sender,
        recipient,
        reference: null,
        notify: recipient ? 'payment_received' : null,
      });

      const out = positives.map((c) => transfer(c.event.eventIndex, c.delta, senderOf(c.address), c.address));
      if (negatives.length === 1) {
        const [sent] = negatives;
        const unseen = -sent!.delta - positives.reduce((sum, c) => sum + c.delta, 0n);
        if (unseen > 0n) out.push(transfer(sent!.event.eventIndex, unseen, sent!.address, null));
      }
      return out.sort((a, b) => a.eventIndex - b.eventIndex);
    },
  };
}

/** The cUSD balance deltas the Pay and P2P events of a transaction account for, per address. */
function suiExplained(events: RawEvent[], packages: { pay: string; p2pTrade: string }, trades: TradeBook): { perAddress: Map<string, bigint>; anyPositive: boolean } {
  const perAddress = new Map<string, bigint>();
  const add = (address: string | null, delta: bigint) => {
    if (address) perAddress.set(address, (perAddress.get(address) ?? 0n) + delta);
  };
  let anyPositive = false;
  for (const p of suiPayments(events, packages.pay)) {
    if (p.token !== CUSD.symbol) continue;
    add(p.payer, -p.amount);
    add(p.recipient, p.net);
  }
  for (const e of suiTradeEvents(events, packages.p2pTrade)) {
    const a = e.args;
    const trade = moveBytesText(a, 'trade_id');
    const known = trades.get(trade);
    switch (e.name) {
      case 'TradeCreated':
        if (suiToken(moveBytesText(a, 'token_type')) === CUSD.symbol) add(suiAddressArg(a, 'seller'), -uint(a, 'amount'));
        break;
      case 'TradeCompleted':
        if (suiToken(moveBytesText(a, 'token_type')) === CUSD.symbol) add(suiAddressArg(a, 'buyer'), uint(a, 'amount'));
        break;
      case 'TradeCancelled':
      case 'DisputeResolved': {
        if (!known) anyPositive = true;
        else if (known.token === CUSD.symbol) add(e.name === 'TradeCancelled' ? known.seller : suiAddressArg(a, 'winner'), known.amount);
        break;
      }
    }
  }
  return { perAddress, anyPositive };
}
