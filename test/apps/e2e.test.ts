import { describe, expect, it, onTestFinished } from 'vitest';
import { createHash } from 'node:crypto';
import { RunningCli, runCli, scratchDir } from '../harness/cli.js';
import { createEmptyDatabase } from '../harness/db.js';
import { vaultWorld } from '../harness/vault-world.js';
import { freePort } from '../../src/runtime/ports.js';
import { until } from '../harness/until.js';

/**
 * The stack as separate processes (`ledgersync api`, `indexer`, `worker`) on one
 * PostgreSQL and a chain with one-second blocks, driven over HTTP only: register an institution, issue,
 * confirm, index, read, verify, revoke, and the chain fallback while the
 * indexer is down.
 */
describe('BlockProof end to end over HTTP', () => {
  it('registers an institution, issues, reads back, verifies, revokes, and falls back to the chain for a credential not indexed yet', async () => {
    const world = await vaultWorld({ blockTime: 1 });
    const database = await createEmptyDatabase();
    onTestFinished(() => database.drop());
    const cwd = scratchDir();
    const port = await freePort();
    // The vault's admin (anvil's first account) signs: it registers itself as an institution over HTTP, then issues.
    const ADMIN_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
    const adminAddress = '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266';
    const env = {
      DATABASE_URL: database.url,
      RPC_URL: world.rpcUrl,
      WS_URL: world.wsUrl,
      DEPLOYMENTS_FILE: world.deploymentsFile,
      RELAYER_PRIVATE_KEY: ADMIN_KEY,
      FINALITY_DEPTH: '2',
      PORT: String(port),
      LOG_LEVEL: 'warn',
    };
    expect((await runCli(['migrate'], { cwd, env })).code).toBe(0);
    let indexer = new RunningCli(['indexer'], { cwd, env });
    new RunningCli(['worker'], { cwd, env });
    const api = new RunningCli(['api'], { cwd, env });
    const base = `http://127.0.0.1:${port}`;
    await api.waitForReady(`${base}/ready`);
    const keyFor = async (...scope: string[]) => (await runCli(['api-key', 'create', ...scope], { cwd, env })).stdout.match(/(lsk_\S+)/)![1]!;
    const adminKey = await keyFor('--admin');
    const key = await keyFor('--institution', adminAddress, '--name', 'registrar');

    const http = async (path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}) => {
      const res = await fetch(`${base}${path}`, {
        method: init.method ?? 'GET',
        headers: { ...(init.body ? { 'content-type': 'application/json' } : {}), ...init.headers },
        ...(init.body ? { body: JSON.stringify(init.body) } : {}),
      });
      return { status: res.status, location: res.headers.get('location'), type: res.headers.get('content-type'), body: (await res.json()) as Record<string, unknown> };
    };
    const write = (path: string, body: unknown, idempotencyKey: string) =>
      http(path, { method: 'POST', body, headers: { authorization: `Bearer ${key}`, 'idempotency-key': idempotencyKey } });
    // An intent is read back with the key that submitted it.
    const asKey = { headers: { authorization: `Bearer ${key}` } };
    const asAdmin = { headers: { authorization: `Bearer ${adminKey}` } };
    const confirmedId = async (location: string) => {
      const intent = await until(async () => {
        const { body } = await http(location, asKey);
        expect(body.state).not.toBe('failed');
        return body.state === 'confirmed' && body;
      }, 'confirmation', 60_000, 100);
      return (intent.events as Array<{ name: string; args: { id: string } }>).find((e) => e.name === 'CredentialIssued')?.args.id;
    };
    const document = Buffer.from('%PDF-1.7 Diploma: Alan Turing, King’s College, 1934');
    const verifyDoc = (id: string, doc: Buffer) => http('/api/blockchain/verify', { method: 'POST', body: { credentialId: id, document: doc.toString('base64') } });

    // Register the institution.
    const registration = await http('/api/institutions', {
      method: 'POST',
      body: { address: adminAddress, name: 'Universidad Abierta', metadataURI: 'ipfs://ua' },
      headers: { authorization: `Bearer ${adminKey}` },
    });
    expect(registration.status).toBe(202);
    await until(async () => (await http(registration.location!, asAdmin)).body.state === 'confirmed', 'the registration', 60_000, 100);
    await until(async () => (await http(`/api/institutions/${adminAddress}`)).body.name === 'Universidad Abierta', 'the institution to be indexed', 60_000, 100);

    // Issue, follow, read back.
    const issued = await write('/api/credentials/issue', { student: '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC', document: document.toString('base64'), metadataURI: 'ipfs://turing' }, 'turing-1934');
    expect(issued.status).toBe(202);
    const id = (await confirmedId(issued.location!))!;
    const record = await until(async () => {
      const res = await http(`/api/credentials/${id}`);
      return res.status === 200 && res.body;
    }, 'indexing', 60_000, 100);
    expect(record).toMatchObject({ source: 'cache', state: 'valid', metadataURI: 'ipfs://turing', institutionName: 'Universidad Abierta', fingerprint: `0x${createHash('sha256').update(document).digest('hex')}` });
    expect((await verifyDoc(id, document)).body).toMatchObject({ verdict: 'valid', source: 'cache' });
    expect((await verifyDoc(id, Buffer.from('%PDF-1.7 Diploma: someone else'))).body).toMatchObject({ verdict: 'invalid' });

    // Revoke, verify again.
    const revocation = await write(`/api/credentials/${id}/revoke`, { reason: 'issued in error' }, 'turing-revoke');
    expect(revocation.status).toBe(202);
    await until(async () => (await http(revocation.location!, asKey)).body.state === 'confirmed', 'the revocation', 60_000, 100);
    await until(async () => (await http(`/api/credentials/${id}`)).body.state === 'revoked', 'the revocation to be indexed', 60_000, 100);
    expect((await verifyDoc(id, document)).body).toMatchObject({ verdict: 'revoked', status: 'revoked' });

    // The indexer stops; a new credential is only on chain: status and verify ask the chain.
    expect(await indexer.stop('SIGTERM')).toBe(0);
    const later = Buffer.from('%PDF-1.7 Diploma: Grace Hopper, Yale, 1934');
    const second = await write('/api/credentials/issue', { student: '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC', document: later.toString('base64'), metadataURI: 'ipfs://hopper' }, 'hopper-1934');
    const secondId = (await confirmedId(second.location!))!;
    const notIndexed = await http(`/api/credentials/${secondId}`);
    expect(notIndexed.status).toBe(404);
    expect(notIndexed.type).toContain('application/problem+json');
    expect((await http(`/api/blockchain/status/${secondId}`)).body).toMatchObject({ source: 'chain', state: 'valid', metadataURI: 'ipfs://hopper' });
    expect((await verifyDoc(secondId, later)).body).toMatchObject({ verdict: 'valid', source: 'chain' });

    // Back up, the indexer catches up and the cache answers again.
    indexer = new RunningCli(['indexer'], { cwd, env });
    await until(async () => (await http(`/api/credentials/${secondId}`)).status === 200, 'the indexer to catch up', 60_000, 100);
    expect((await http(`/api/blockchain/status/${secondId}`)).body.source).toBe('cache');
  });
});
