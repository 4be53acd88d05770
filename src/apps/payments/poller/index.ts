/** The payments poller (seed 002): sources, the `payments` projection with its module handlers, and the retry task. */
export { paymentsSources, PAYMENTS_EVENTS } from './sources.js';
export { paymentsProjection, paymentsHandlers, groupByTransaction, PAYMENTS_PROJECTION } from './projection.js';
export { processTask, processTransactions, PROCESS_TASK, RETRY_DELAY_SECONDS, type HandlerRun, type HandlersOf } from './processing.js';
export { readableReference } from './records.js';
export * from './types.js';
