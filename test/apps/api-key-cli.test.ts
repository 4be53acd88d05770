import { describe, expect, it } from 'vitest';
import { connectDatabase } from '../../src/db/client.js';
import { authenticate } from '../../src/http/api-keys.js';
import { runCli, scratchDir } from '../harness/cli.js';
import { createEmptyDatabase } from '../harness/db.js';

describe('ledgersync api-key', () => {
  it('creates a key shown once and stored hashed, revokes it, and refuses bad input with one line', async () => {
    const database = await createEmptyDatabase();
    const db = connectDatabase(database.url);
    try {
      const cwd = scratchDir();
      const env = { DATABASE_URL: database.url, RPC_URL: 'http://127.0.0.1:9' };
      const institution = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
      const created = await runCli(['api-key', 'create', '--institution', institution, '--name', 'registrar'], { cwd, env });
      expect(created.code).toBe(0);
      const [, id, key] = created.stdout.match(/^key ([0-9a-f]{12}) for 0x[0-9a-f]{40}: (lsk_\S+)$/m)!;
      expect(await authenticate(db.pool, key!)).toEqual({ keyId: id, roles: ['credentials.institution'], scope: { institution: institution.toLowerCase() }, admin: false });
      const adminKey = (await runCli(['api-key', 'create', '--admin'], { cwd, env })).stdout.match(/^key [0-9a-f]{12} for administration: (lsk_\S+)$/m)![1]!;
      expect(await authenticate(db.pool, adminKey)).toMatchObject({ roles: ['admin'], scope: {}, admin: true });
      expect(await runCli(['api-key', 'create'], { cwd, env })).toMatchObject({ code: 1, stderr: 'ledgersync: give exactly one of --institution <address> or --admin\n' });
      const { rows } = await db.pool.query('select * from api_keys');
      expect(JSON.stringify(rows)).not.toContain(key!.split('_')[2]);

      expect(await runCli(['api-key', 'revoke', id!], { cwd, env })).toMatchObject({ code: 0, stdout: `key ${id} revoked\n` });
      expect(await authenticate(db.pool, key!)).toBeUndefined();
      expect(await runCli(['api-key', 'revoke', id!], { cwd, env })).toMatchObject({ code: 1, stderr: `ledgersync: no active API key ${id}\n` });
      expect(await runCli(['api-key', 'create', '--institution', 'somebody'], { cwd, env })).toMatchObject({
        code: 1,
        stderr: 'ledgersync: --institution: expected a 0x-prefixed 20-byte address\n',
      });
    } finally {
      await db.close();
      await database.drop();
    }
  });
});
