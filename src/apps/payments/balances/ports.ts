import type pg from 'pg';
import type { Address } from 'viem';
import type { ChainKey, ChainReaders, Logger, Outbox } from '../../../engine/index.js';
import type { PaymentsSettings } from '../settings.js';

/**
 * What balance reads need: the database, the chains' reading ports and the
 * deployments (the engine gives both to tasks, `TaskPorts`, and to routes,
 * `AppContext`), and the app's settings (the Sui coin types).
 */
export interface BalancePorts extends ChainReaders {
  pool: pg.Pool;
  deployment(chain: ChainKey, contract: string): Address | undefined;
  settings: PaymentsSettings;
}

/** Sends also write through the outbox. */
export interface SendPorts extends BalancePorts {
  outbox: Outbox;
}

/** The periodic tasks also log what they find. */
export interface BalanceTaskPorts extends BalancePorts {
  logger: Logger;
}
