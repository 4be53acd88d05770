import type { LedgersyncApp } from '../../engine/index.js';
import { paymentsContracts } from './contracts.js';
import { balanceTasks, RECONCILE_TASK, REFRESH_TASK } from './balances/index.js';
import { sendIntents } from './sends/index.js';
import { paymentsGraphql } from './graphql/index.js';
import { paymentsCommands } from './commands.js';
import { operatorIntents } from './operator.js';
import { notificationTask, NOTIFY_TASK } from './notifications/index.js';
import { paymentsHandlers, paymentsProjection, paymentsSources, processTask, PROCESS_TASK } from './poller/index.js';
import type { PushProvider } from './notifications/index.js';
import type { PaymentsChain, PaymentsSettings } from './settings.js';

export interface PaymentsOptions {
  /** The chains it runs on: EVM chains (its contracts deployed there) and Sui chains (Confío's packages). */
  chains: PaymentsChain[];
  /** The signer role (or address) that administers the EVM contracts, mints cUSD and sponsors Sui gas; default `default`. */
  platformSigner?: string;
  /** Pay's fee on EVM chains, in basis points (at most 1000); default 90 (0.9%, as pay.move). */
  payFeeBps?: number;
  /** Where notifications are delivered; none: they are recorded and never sent. */
  pushProviders?: PushProvider[];
  /**
   * Crontab schedules: stale balances refreshed (default every 5 minutes), all reconciled (default hourly).
   * `null` schedules nothing: the task is then run only when queued (`graphile_worker.add_job`), for a deployment
   * that runs it elsewhere or not at all.
   */
  refreshCron?: string | null;
  reconcileCron?: string | null;
}

/**
 * Confío payments (seeds 002 and 004): a poller that keeps every transaction
 * touching Confío's contracts or a user's address (raw event, records per
 * module, a notification to the recipient), cached balances that a critical
 * operation always checks against the chain, and sends through the outbox.
 */
export function paymentsApp(options: PaymentsOptions): LedgersyncApp {
  const settings: PaymentsSettings = {
    chains: options.chains,
    platformSigner: options.platformSigner ?? 'default',
    payFeeBps: options.payFeeBps ?? 90,
    pushProviders: options.pushProviders ?? [],
    refreshCron: options.refreshCron === undefined ? '*/5 * * * *' : options.refreshCron,
    reconcileCron: options.reconcileCron === undefined ? '0 * * * *' : options.reconcileCron,
  };
  return {
    name: 'payments',
    migrations: 'src/apps/payments/migrations',
    contracts: settings.chains.flatMap((c) => (c.family === 'evm' ? paymentsContracts(c.chain, settings.platformSigner, settings.payFeeBps) : [])),
    // The poller: sources, the `payments` projection, the retry of failed handlers, and the pushes it queues.
    sources: paymentsSources(settings),
    projections: [paymentsProjection(settings)],
    // Sends: cUSD transfers, one kind per chain, whose outcomes settle the send; and the platform's mints.
    intents: [...sendIntents(settings), ...operatorIntents(settings)],
    tasks: (ports) => ({
      [PROCESS_TASK]: processTask(ports, paymentsHandlers(settings)),
      [NOTIFY_TASK]: notificationTask(ports, settings.pushProviders),
      ...balanceTasks(settings)(ports),
    }),
    // Seed 004: stale balances refreshed, all reconciled with the chain. A tick missed while no worker ran is skipped: the next one does the same work.
    schedules: [
      ...(settings.refreshCron === null ? [] : [{ task: REFRESH_TASK, cron: settings.refreshCron }]),
      ...(settings.reconcileCron === null ? [] : [{ task: RECONCILE_TASK, cron: settings.reconcileCron }]),
    ],
    // The GraphQL API (seed 002's web process): accounts, balances, history, sends, payments as they arrive.
    routes: (app, context) => paymentsGraphql(app, context, settings),
    commands: paymentsCommands(settings),
  };
}
