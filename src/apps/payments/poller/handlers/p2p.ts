import { normalizeSuiAddress } from '@mysten/sui/utils';
import { CUSD } from '../../settings.js';
import { EVM_P2P_SOURCE, SUI_SOURCE, type PaymentHandler, type RawEvent, type RecordDraft } from '../types.js';
import { boolArg, coinType, evmAddressArg, hexArg, moveBytesText, signedInt, suiAddressArg, uint } from './args.js';
import { suiToken } from './pay.js';

/**
 * P2P escrow: one record per step, the trade id as reference. Sender and
 * recipient are the trade's parties as the step concerns them:
 *   created   seller → buyer (EVM; on Sui the buyer is not known yet: none)
 *   paid      buyer → seller (the buyer says the fiat was paid; Sui: the buyer accepted)
 *   released  seller → buyer (the escrow goes to the buyer)
 *   cancelled the other party → seller (the escrow goes back)
 *   disputed  who opened it → the other party
 *   resolved  the arbitrator → the winner
 * Steps whose event does not carry the amount (or a party) take it from the
 * trade's creation (the trade book): the escrow_created record.
 * Pushes: the recipient of created, released, cancelled and disputed. An EVM
 * resolution comes with its EscrowReleased or EscrowCancelled (that one pushes);
 * a Sui resolution has no such companion, so its winner is told the escrow was released.
 */
export const evmP2pHandler: PaymentHandler = {
  name: 'p2p',
  derive(tx, { trades }) {
    const out: RecordDraft[] = [];
    for (const event of tx.events) {
      if (event.source !== EVM_P2P_SOURCE) continue;
      const a = event.args;
      const base = { eventIndex: event.eventIndex, token: CUSD.symbol, fee: 0n };
      switch (event.name) {
        case 'EscrowCreated': {
          const [trade, seller, buyer, amount] = [hexArg(a, 'tradeId'), evmAddressArg(a, 'seller'), evmAddressArg(a, 'buyer'), uint(a, 'amount')];
          trades.set(trade, { seller, buyer, amount, token: CUSD.symbol });
          out.push({ ...base, kind: 'escrow_created', amount, sender: seller, recipient: buyer, reference: trade, notify: 'escrow_created' });
          break;
        }
        case 'EscrowMarkedPaid': {
          const trade = hexArg(a, 'tradeId');
          const known = trades.get(trade);
          out.push({ ...base, kind: 'escrow_paid', amount: known?.amount ?? 0n, sender: evmAddressArg(a, 'buyer'), recipient: known?.seller ?? null, reference: trade, notify: null });
          break;
        }
        case 'EscrowReleased':
          out.push({ ...base, kind: 'escrow_released', amount: uint(a, 'amount'), sender: evmAddressArg(a, 'seller'), recipient: evmAddressArg(a, 'buyer'), reference: hexArg(a, 'tradeId'), notify: 'escrow_released' });
          break;
        case 'EscrowCancelled':
          out.push({ ...base, kind: 'escrow_cancelled', amount: uint(a, 'amount'), sender: evmAddressArg(a, 'buyer'), recipient: evmAddressArg(a, 'seller'), reference: hexArg(a, 'tradeId'), notify: 'escrow_cancelled' });
          break;
        case 'EscrowDisputed': {
          const [trade, by] = [hexArg(a, 'tradeId'), evmAddressArg(a, 'by')];
          const known = trades.get(trade);
          out.push({ ...base, kind: 'escrow_disputed', amount: known?.amount ?? 0n, sender: by, recipient: otherParty(known, by), reference: trade, notify: 'escrow_disputed' });
          break;
        }
        case 'DisputeResolved': {
          const trade = hexArg(a, 'tradeId');
          const known = trades.get(trade);
          const winner = boolArg(a, 'toBuyer') ? known?.buyer : known?.seller;
          out.push({ ...base, kind: 'escrow_resolved', amount: known?.amount ?? 0n, sender: evmAddressArg(a, 'arbitrator'), recipient: winner ?? null, reference: trade, notify: null });
          break;
        }
      }
    }
    return out;
  },
};

/** `p2p_trade` on Sui: TradeCreated, TradeAccepted, TradeCompleted, TradeCancelled, DisputeOpened, DisputeResolved. */
export function suiP2pHandler(p2pPackage: string, cusdType: string): PaymentHandler {
  const pkg = normalizeSuiAddress(p2pPackage);
  const cusd = coinType(cusdType);
  return {
    name: 'p2p',
    derive(tx, { trades }) {
      const out: RecordDraft[] = [];
      for (const event of suiTradeEvents(tx.events, pkg)) {
        const a = event.args;
        const trade = moveBytesText(a, 'trade_id');
        const known = trades.get(trade);
        const base = { eventIndex: event.eventIndex, fee: 0n, reference: trade };
        // The escrow paid out by a step whose event gives no amount: the trade's, else what the visible cUSD changes received.
        const paidOut = () => known ?? escrowPayout(tx.events, cusd);
        switch (event.name) {
          case 'TradeCreated': {
            const [seller, amount, token] = [suiAddressArg(a, 'seller'), uint(a, 'amount'), suiToken(moveBytesText(a, 'token_type'))];
            trades.set(trade, { seller, buyer: null, amount, token });
            out.push({ ...base, kind: 'escrow_created', token, amount, sender: seller, recipient: null, notify: null });
            break;
          }
          case 'TradeAccepted': {
            const buyer = suiAddressArg(a, 'buyer');
            if (known) trades.set(trade, { ...known, buyer });
            out.push({ ...base, kind: 'escrow_paid', token: known?.token ?? CUSD.symbol, amount: known?.amount ?? 0n, sender: buyer, recipient: known?.seller ?? null, notify: null });
            break;
          }
          case 'TradeCompleted': {
            const token = suiToken(moveBytesText(a, 'token_type'));
            out.push({ ...base, kind: 'escrow_released', token, amount: uint(a, 'amount'), sender: suiAddressArg(a, 'seller'), recipient: suiAddressArg(a, 'buyer'), notify: pushed(token, 'escrow_released') });
            break;
          }
          case 'TradeCancelled': {
            const payout = paidOut();
            const token = known?.token ?? CUSD.symbol;
            out.push({ ...base, kind: 'escrow_cancelled', token, amount: payout.amount, sender: suiAddressArg(a, 'cancelled_by'), recipient: payout.seller, notify: pushed(token, 'escrow_cancelled') });
            break;
          }
          case 'DisputeOpened': {
            const by = suiAddressArg(a, 'opened_by');
            const token = known?.token ?? CUSD.symbol;
            out.push({ ...base, kind: 'escrow_disputed', token, amount: known?.amount ?? 0n, sender: by, recipient: otherParty(known, by), notify: pushed(token, 'escrow_disputed') });
            break;
          }
          case 'DisputeResolved': {
            const token = known?.token ?? CUSD.symbol;
            out.push({ ...base, kind: 'escrow_resolved', token, amount: paidOut().amount, sender: suiAddressArg(a, 'resolved_by'), recipient: suiAddressArg(a, 'winner'), notify: pushed(token, 'escrow_released') });
            break;
          }
        }
      }
      return out;
    },
  };
}

const TRADE_EVENTS = new Set(['TradeCreated', 'TradeAccepted', 'TradeCompleted', 'TradeCancelled', 'DisputeOpened', 'DisputeResolved']);

export function suiTradeEvents(events: RawEvent[], p2pPackage: string): RawEvent[] {
  const pkg = normalizeSuiAddress(p2pPackage);
  return events.filter((e) => e.source === SUI_SOURCE && TRADE_EVENTS.has(e.name) && e.emitter.startsWith(`${pkg}::`));
}

/** The party of a trade that is not `by` (unknown trade, or `by` neither: none). */
function otherParty(trade: { seller: string | null; buyer: string | null } | undefined, by: string): string | null {
  if (!trade) return null;
  if (by === trade.seller) return trade.buyer;
  if (by === trade.buyer) return trade.seller;
  return null;
}

const pushed = <K extends RecordDraft['notify']>(token: string, kind: K) => (token === CUSD.symbol ? kind : null);

/**
 * A trade the poller never saw created (it started later): what the escrow paid
 * out is what the transaction's visible positive cUSD changes received, to the one
 * address receiving, if one.
 */
function escrowPayout(events: RawEvent[], cusd: string): { seller: string | null; amount: bigint } {
  const received = events.filter((e) => e.name === 'BalanceChange' && coinType(e.args.coinType) === cusd && signedInt(e.args, 'amount') > 0n);
  const amount = received.reduce((sum, e) => sum + signedInt(e.args, 'amount'), 0n);
  return { seller: received.length === 1 ? suiAddressArg(received[0]!.args, 'address') : null, amount };
}
