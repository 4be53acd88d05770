import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startWorker } from '../../src/jobs/worker.js';
import { createLogger } from '../../src/runtime/logger.js';
import { registerWebhooks, verifyWebhook, webhookTask, WEBHOOK_TASK } from '../../src/core/relayer/webhooks.js';
import { ledgerRelayerWorld } from '../harness/ledger-relayer.js';

const SECRET = 'a-test-secret-of-some-length';

/** A local endpoint that records deliveries and answers 500 to the first `failFirst` of them. */
async function endpoint(options: { failFirst?: number; alwaysFail?: boolean } = {}) {
  const received: Array<{ body: string; signature: string; delivery: string }> = [];
  let calls = 0;
  const server = createServer(async (req: IncomingMessage, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    calls++;
    if (options.alwaysFail || calls <= (options.failFirst ?? 0)) {
      res.writeHead(500).end('down');
      return;
    }
    received.push({ body, signature: String(req.headers['ledgersync-signature']), delivery: String(req.headers['ledgersync-delivery']) });
    res.writeHead(204).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received, calls: () => calls };
}

describe('webhooks', () => {
  it('posts every state change of an intent, signed, retries a failing endpoint, and parks deliveries after the last try', async () => {
    const w = await ledgerRelayerWorld({ finalityDepth: 0 });
    const flaky = await endpoint({ failFirst: 1 });
    const dead = await endpoint({ alwaysFail: true });
    await registerWebhooks(w.database.pool, { urls: [flaky.url], maxAttempts: 5 });
    await w.database.pool.query('insert into relayer_webhooks (url, max_attempts) values ($1, 2)', [dead.url]);
    const worker = await startWorker(w.database.url, createLogger('silent'), { tasks: { [WEBHOOK_TASK]: webhookTask(w.database.pool, { secret: SECRET, timeoutMs: 2_000 }) } }, { pollInterval: 100 });
    onTestFinished(() => worker.stop());

    await w.submit([w.writeOnce('hooked')]);
    await w.startRelayer();
    await w.settled();
    const states = ['pending', 'signed', 'broadcast', 'included', 'confirmed'];
    // The flaky endpoint's first answer was a 500: that delivery came again after a backoff.
    const deadline = Date.now() + 60_000;
    while (flaky.received.length < states.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const events = flaky.received.map((r) => JSON.parse(r.body));
    expect(events.map((e) => e.state).sort()).toEqual([...states].sort());
    expect(flaky.calls()).toBe(states.length + 1);
    for (const r of flaky.received) {
      expect(verifyWebhook(SECRET, r.signature, r.body)).toBe(true);
      expect(verifyWebhook('another-secret-entirely', r.signature, r.body)).toBe(false);
      expect(verifyWebhook(SECRET, r.signature, r.body.replace('hooked', 'forged'))).toBe(false);
    }
    const confirmed = events.find((e) => e.state === 'confirmed');
    expect(confirmed).toMatchObject({ type: 'intent.state_changed', intent: { idempotencyKey: 'hooked', kind: 'ledger.write', functionName: 'writeOnce', chain: 'evm:31337' } });
    expect(confirmed.intent.transactionId).toMatch(/^0x[0-9a-f]{64}$/);

    // The dead endpoint: two tries per delivery, then each is a dead letter.
    const parked = async () =>
      (
        await w.database.pool.query<{ n: number }>(
          `select count(*)::int as n from relayer_webhook_dead_letters where url = $1 and last_error like '%answered 500%'`,
          [dead.url],
        )
      ).rows[0]!.n;
    while ((await parked()) < states.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(await parked()).toBe(states.length);
    expect(dead.calls()).toBe(states.length * 2);
  });

  it('queues nothing when no endpoint is registered', async () => {
    const w = await ledgerRelayerWorld({ finalityDepth: 0 });
    await registerWebhooks(w.database.pool, { urls: [], maxAttempts: 5 });
    await w.submit([w.writeOnce('quiet')]);
    const { rows } = await w.database.pool.query<{ n: number }>('select count(*)::int as n from graphile_worker.jobs');
    expect(rows[0]!.n).toBe(0);
  });
});
