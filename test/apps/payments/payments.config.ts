/**
 * The payments app on an anvil whose endpoint the test gives (PAYMENTS_RPC_URL),
 * and, when PAYMENTS_SUI_URL is set, also on the Sui simulator there with
 * Confío's packages (PAYMENTS_SUI_CUSD, _PAY, _P2P: package ids; _SUI_CUSD_TYPE).
 * Used in process (test/harness/payments-world.ts) and by the roles started as
 * separate processes, with the same environment. Notifications go to the
 * webhook at PAYMENTS_WEBHOOK_URL (a test's recording server), if set. The
 * balance schedules are PAYMENTS_REFRESH_CRON and PAYMENTS_RECONCILE_CRON
 * (`off`: not scheduled; unset: the app's defaults).
 */
import { defineConfig, evmChain, suiChain } from '../../../src/engine/index.js';
import { paymentsApp } from '../../../src/apps/payments/index.js';
import { webhookProvider } from '../../../src/apps/payments/notifications/index.js';
import type { PaymentsChain } from '../../../src/apps/payments/settings.js';
import { DEV_KEYS } from './dev-keys.js';


const env = process.env;
// Sui signers: the platform's (PAYMENTS_SUI_KEY: pays sponsored gas) and a custodial user's (PAYMENTS_SUI_CUSTODIAL_KEY).
const suiSigners = [
  ...(env.PAYMENTS_SUI_KEY ? [{ privateKey: env.PAYMENTS_SUI_KEY, roles: ['default', 'platform'] }] : []),
  ...(env.PAYMENTS_SUI_CUSTODIAL_KEY ? [{ privateKey: env.PAYMENTS_SUI_CUSTODIAL_KEY, roles: ['custodial'] }] : []),
];
const schedule = (cron: string | undefined) => (cron === 'off' ? null : cron);
const sui = env.PAYMENTS_SUI_URL
  ? [suiChain({ url: env.PAYMENTS_SUI_URL, network: 'localnet-sim', pollIntervalMs: 100, ...(suiSigners.length > 0 ? { signers: suiSigners } : {}) })]
  : [];

export default defineConfig({
  chains: [
    evmChain({
      id: 31337,
      rpc: env.PAYMENTS_RPC_URL,
      ws: env.PAYMENTS_WS_URL,
      finalityDepth: Number(env.PAYMENTS_FINALITY ?? '2'),
      pollIntervalMs: 100,
      deployerPrivateKey: DEV_KEYS[0],
      signers: [{ privateKey: DEV_KEYS[0], roles: ['default', 'platform'] }, ...DEV_KEYS.slice(1).map((privateKey) => ({ privateKey, roles: ['custodial'] }))],
    }),
    ...sui,
  ],
  apps: (keys) => {
    const chains: PaymentsChain[] = [{ family: 'evm', chain: keys[0]! }];
    if (keys[1]) {
      chains.push({
        family: 'sui',
        chain: keys[1],
        packages: { cusd: env.PAYMENTS_SUI_CUSD!, pay: env.PAYMENTS_SUI_PAY!, p2pTrade: env.PAYMENTS_SUI_P2P! },
        cusdType: env.PAYMENTS_SUI_CUSD_TYPE!,
        startCheckpoint: 0n,
      });
    }
    return [
      paymentsApp({
        chains,
        platformSigner: 'platform',
        refreshCron: schedule(env.PAYMENTS_REFRESH_CRON),
        reconcileCron: schedule(env.PAYMENTS_RECONCILE_CRON),
        ...(env.PAYMENTS_WEBHOOK_URL ? { pushProviders: [webhookProvider({ url: env.PAYMENTS_WEBHOOK_URL, secret: 'payments-test-webhook-secret' })] } : {}),
      }),
    ];
  },
});
