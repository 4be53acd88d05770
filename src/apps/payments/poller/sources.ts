import { evmSource, suiSource, type Source } from '../../../engine/index.js';
import { cusdAbi, p2PTradeAbi, payAbi } from '../contracts.js';
import { addressSetName, CUSD_CONTRACT, P2P_CONTRACT, PAY_CONTRACT, type PaymentsSettings } from '../settings.js';
import { EVM_CUSD_SOURCE, EVM_P2P_SOURCE, EVM_PAY_SOURCE, SUI_SOURCE } from './types.js';

/**
 * What the poller reads, per chain. EVM: cUSD Transfers from or to our accounts
 * (the chain's address set, kept by payment_accounts' trigger), and every event
 * of Pay and P2PTrade. Sui: the transactions that touch Confío's packages or our
 * accounts, with their Move events and our accounts' balance changes (plain
 * transfers emit no event there).
 */
export function paymentsSources(settings: Pick<PaymentsSettings, 'chains'>): Source[] {
  return settings.chains.flatMap((c): Source[] =>
    c.family === 'evm'
      ? [
          evmSource({ name: EVM_CUSD_SOURCE, chain: c.chain, abi: cusdAbi, contract: CUSD_CONTRACT, addressSet: { name: addressSetName(c.chain), args: ['from', 'to'] } }),
          evmSource({ name: EVM_PAY_SOURCE, chain: c.chain, abi: payAbi, contract: PAY_CONTRACT }),
          evmSource({ name: EVM_P2P_SOURCE, chain: c.chain, abi: p2PTradeAbi, contract: P2P_CONTRACT }),
        ]
      : [suiSource({ name: SUI_SOURCE, chain: c.chain, packages: [c.packages.cusd, c.packages.pay, c.packages.p2pTrade], addressSet: addressSetName(c.chain), startCheckpoint: c.startCheckpoint })],
  );
}

/** The events the `payments` projection folds (`<source>.<name>`). */
export const PAYMENTS_EVENTS = [
  `${EVM_CUSD_SOURCE}.Transfer`,
  `${EVM_PAY_SOURCE}.PaymentMade`,
  ...['EscrowCreated', 'EscrowMarkedPaid', 'EscrowReleased', 'EscrowCancelled', 'EscrowDisputed', 'DisputeResolved'].map((name) => `${EVM_P2P_SOURCE}.${name}`),
  ...['Transaction', 'BalanceChange', 'CUSDMinted', 'CUSDBurned', 'PaymentMade', 'TradeCreated', 'TradeAccepted', 'TradeCompleted', 'TradeCancelled', 'DisputeOpened', 'DisputeResolved'].map((name) => `${SUI_SOURCE}.${name}`),
];
