import type { Task } from 'graphile-worker';
import { inTransaction, type TaskPorts } from '../../engine/index.js';
import { CLOSE_TASK, DEPLOY_TIMEOUT_TASK, closeDueCampaigns, deployTimedOut } from './campaigns.js';
import { actAs } from './state.js';
import type { IssuerSettings } from './settings.js';

/** The platform's jobs: closing campaigns at their deadline, and giving up on deployments that get no answer. */
export function issuerTasks(settings: IssuerSettings) {
  return ({ pool, outbox, logger }: TaskPorts): Record<string, Task> => ({
    [CLOSE_TASK]: async () => {
      const closed = await inTransaction(pool, async (client) => {
        await actAs(client, `task:${CLOSE_TASK}`);
        return closeDueCampaigns(client, outbox, settings);
      });
      if (closed > 0) logger.info({ closed }, 'campaigns past their deadline are closing');
    },
    [DEPLOY_TIMEOUT_TASK]: async (payload) => {
      const { campaign, intent } = payload as { campaign: string; intent: string };
      const gaveUp = await inTransaction(pool, async (client) => {
        await actAs(client, `task:${DEPLOY_TIMEOUT_TASK}`);
        return deployTimedOut(client, settings, BigInt(campaign), BigInt(intent));
      });
      if (gaveUp) logger.warn({ campaign, intent }, 'campaign deployment timed out: back to approved, to be retried');
    },
  });
}
