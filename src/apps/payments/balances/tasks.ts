import type { Task } from 'graphile-worker';
import type { TaskPorts } from '../../../engine/index.js';
import type { PaymentsSettings } from '../settings.js';
import type { BalanceTaskPorts } from './ports.js';
import { RECONCILE_TASK, reconcileBalances } from './reconcile.js';
import { REFRESH_TASK, refreshStale } from './refresh.js';

export { RECONCILE_TASK, REFRESH_TASK };

/** The app's balance tasks, as the worker runs them (on the app's schedules). */
export function balanceTasks(settings: PaymentsSettings) {
  return (ports: TaskPorts): Record<string, Task> => {
    const own: BalanceTaskPorts = { ...ports, settings };
    return {
      [REFRESH_TASK]: async () => void (await refreshStale(own)),
      [RECONCILE_TASK]: async () => void (await reconcileBalances(own)),
    };
  };
}
