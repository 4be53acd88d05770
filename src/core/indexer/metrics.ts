import { Counter, Gauge, Histogram } from 'prom-client';
import { metrics } from '../../runtime/metrics.js';

const labelNames = ['chain'] as const;
const head = new Gauge({ name: 'ledgersync_indexer_head_block', help: 'Latest block number seen on the chain', labelNames, registers: [metrics] });
const indexed = new Gauge({ name: 'ledgersync_indexer_indexed_block', help: 'Last block fully indexed', labelNames, registers: [metrics] });
const lagBlocks = new Gauge({ name: 'ledgersync_indexer_lag_blocks', help: 'Head minus indexed block', labelNames, registers: [metrics] });
const lagSeconds = new Gauge({ name: 'ledgersync_indexer_lag_seconds', help: 'Now minus the timestamp of the last indexed block', labelNames, registers: [metrics] });
const events = new Counter({ name: 'ledgersync_indexer_events_total', help: 'Events stored and projected', labelNames, registers: [metrics] });
const reorgs = new Counter({ name: 'ledgersync_indexer_reorgs_total', help: 'Reorgs handled', labelNames, registers: [metrics] });
const reorgDepth = new Histogram({
  name: 'ledgersync_indexer_reorg_depth',
  help: 'Blocks rolled back per reorg',
  labelNames,
  buckets: [1, 2, 3, 5, 8, 13, 21, 34, 64, 128],
  registers: [metrics],
});
const halted = new Gauge({ name: 'ledgersync_indexer_halted', help: '1 when indexing of the chain stopped on a reorg deeper than finality', labelNames, registers: [metrics] });
const leader = new Gauge({ name: 'ledgersync_indexer_leader', help: '1 while this process holds the indexer lock of the chain', labelNames, registers: [metrics] });

/** The indexer's Prometheus metrics for one chain. Events per second is rate(ledgersync_indexer_events_total). */
export function indexerMetrics(chainKey: string) {
  const chain = { chain: chainKey };
  let headNumber = 0;
  return {
    head(n: bigint) {
      headNumber = Number(n);
      head.set(chain, headNumber);
    },
    indexed(n: bigint, timestamp: bigint | null) {
      indexed.set(chain, Number(n));
      lagBlocks.set(chain, Math.max(0, headNumber - Number(n)));
      if (timestamp !== null) lagSeconds.set(chain, Math.max(0, Date.now() / 1000 - Number(timestamp)));
    },
    events(n: number) {
      events.inc(chain, n);
    },
    reorg(depth: bigint) {
      reorgs.inc(chain);
      reorgDepth.observe(chain, Number(depth));
    },
    halted(on: boolean) {
      halted.set(chain, on ? 1 : 0);
    },
    leader(on: boolean) {
      leader.set(chain, on ? 1 : 0);
    },
  };
}

export type IndexerMetrics = ReturnType<typeof indexerMetrics>;
