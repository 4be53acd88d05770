import { normalizeSuiAddress } from '@mysten/sui/utils';
import { CUSD } from '../../settings.js';
import { EVM_PAY_SOURCE, SUI_SOURCE, type PaymentHandler, type RawEvent, type RecordDraft } from '../types.js';
import { evmAddressArg, hexArg, moveBytesText, suiAddressArg, uint } from './args.js';

/**
 * Pay: one `payment` record per PaymentMade, the gross amount with its fee, from
 * the payer to the merchant, its reference kept; the merchant is told
 * (merchant_payment_received). The cUSD moves the payment makes are this record,
 * not transfers (cusd.ts leaves them out).
 */
export const evmPayHandler: PaymentHandler = {
  name: 'pay',
  derive(tx) {
    return evmPayments(tx.events).map(({ event, payer, merchant, amount, fee, reference }) => ({
      eventIndex: event.eventIndex,
      kind: 'payment',
      token: CUSD.symbol,
      amount,
      fee,
      sender: payer,
      recipient: merchant,
      reference,
      notify: 'merchant_payment_received',
    }));
  },
};

export function evmPayments(events: RawEvent[]) {
  return events
    .filter((e) => e.source === EVM_PAY_SOURCE && e.name === 'PaymentMade')
    .map((event) => ({
      event,
      payer: evmAddressArg(event.args, 'payer'),
      merchant: evmAddressArg(event.args, 'merchant'),
      amount: uint(event.args, 'amount'),
      fee: uint(event.args, 'fee'),
      reference: hexArg(event.args, 'paymentReference'),
    }));
}

/** `pay::PaymentMade` on Sui: `token_type` b"CUSD" or b"CONFIO"; the fee stays in the shared FeeCollector. */
export function suiPayHandler(payPackage: string): PaymentHandler {
  return {
    name: 'pay',
    derive(tx) {
      return suiPayments(tx.events, payPackage).map(
        ({ event, payer, recipient, amount, fee, token, reference }): RecordDraft => ({
          eventIndex: event.eventIndex,
          kind: 'payment',
          token,
          amount,
          fee,
          sender: payer,
          recipient,
          reference,
          // The catalogue formats cUSD; CONFIO payments are recorded, not pushed.
          notify: token === CUSD.symbol ? 'merchant_payment_received' : null,
        }),
      );
    },
  };
}

export function suiPayments(events: RawEvent[], payPackage: string) {
  const pkg = normalizeSuiAddress(payPackage);
  return events
    .filter((e) => e.source === SUI_SOURCE && e.name === 'PaymentMade' && e.emitter.startsWith(`${pkg}::`))
    .map((event) => ({
      event,
      payer: suiAddressArg(event.args, 'payer'),
      recipient: suiAddressArg(event.args, 'recipient'),
      amount: uint(event.args, 'amount'),
      fee: uint(event.args, 'fee_amount'),
      net: uint(event.args, 'net_amount'),
      token: suiToken(moveBytesText(event.args, 'token_type')),
      reference: moveBytesText(event.args, 'payment_id') || null,
    }));
}

/** Confío's Move packages name their coin `CUSD` or `CONFIO` in events. */
export function suiToken(tokenType: string): string {
  return tokenType === 'CUSD' ? CUSD.symbol : tokenType;
}
