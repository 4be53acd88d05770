export { getBalance, readThrough, toBalance, checkToken, AccountNotFoundError, UnknownTokenError, type Balance } from './balance.js';
export { readChainBalance, readChainBalances, ChainUnavailableError, ContractNotDeployedError, type ChainBalances } from './chain.js';
export { cachedBalance, lockBalances, recordChainRead, type CachedBalance } from './cache.js';
export { balanceTasks, REFRESH_TASK, RECONCILE_TASK } from './tasks.js';
export { refreshStale } from './refresh.js';
export { reconcileBalances, type ReconcileOptions, type ReconcileResult } from './reconcile.js';
export { balanceDrifts } from './metrics.js';
export type { BalancePorts, SendPorts, BalanceTaskPorts } from './ports.js';
