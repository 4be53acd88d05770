import { Counter } from 'prom-client';
import { metrics } from '../../runtime/metrics.js';

const labelNames = ['chain'] as const;
const signed = new Counter({ name: 'ledgersync_relayer_transactions_signed_total', help: 'Transactions signed and stored (first tries, replacements and gap fillers)', labelNames, registers: [metrics] });
const broadcastErrors = new Counter({ name: 'ledgersync_relayer_broadcast_errors_total', help: 'eth_sendRawTransaction failures (the same bytes are sent again later)', labelNames, registers: [metrics] });
const settled = new Counter({
  name: 'ledgersync_relayer_intents_settled_total',
  help: 'Intents that reached a final state, by outcome',
  labelNames: ['chain', 'outcome'] as const,
  registers: [metrics],
});
const replacements = new Counter({ name: 'ledgersync_relayer_replacements_total', help: 'Transactions replaced with higher fees after waiting too long', labelNames, registers: [metrics] });
const reorged = new Counter({ name: 'ledgersync_relayer_reorged_total', help: 'Inclusions removed by a reorg (the same bytes were sent again)', labelNames, registers: [metrics] });
const handlerFailures = new Counter({
  name: 'ledgersync_relayer_handler_failures_total',
  help: "App handler calls that threw (rolled back to a savepoint and retried with backoff; other intents are not affected)",
  labelNames: ['chain', 'kind', 'hook'] as const,
  registers: [metrics],
});

/** The relayer's Prometheus counters for one chain, counted by this process. */
export function relayerMetrics(chainKey: string) {
  const chain = chainKey;
  return {
    signed: (n: number) => signed.inc({ chain }, n),
    broadcastError: () => broadcastErrors.inc({ chain }),
    settled: (outcome: 'confirmed' | 'failed', n: number) => settled.inc({ chain, outcome }, n),
    replaced: () => replacements.inc({ chain }),
    reorged: (n: number) => reorged.inc({ chain }, n),
    handlerFailed: (kind: string, hook: string) => handlerFailures.inc({ chain, kind, hook }),
  };
}

export type RelayerMetrics = ReturnType<typeof relayerMetrics>;
