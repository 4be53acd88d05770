import { Registry, collectDefaultMetrics } from 'prom-client';

/** The process's one Prometheus registry, served at /metrics. */
export const metrics = new Registry();
collectDefaultMetrics({ register: metrics, prefix: 'ledgersync_' });
