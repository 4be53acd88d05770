import { describe, expect, it } from 'vitest';
import { addAccount, ensureUser, InvalidAddressError, normalizeAddress, setAccountActive } from '../../../src/apps/payments/accounts.js';
import { paymentsWorld, EVM_CHAIN } from '../../harness/payments-world.js';

describe('payments accounts', () => {
  it('keeps the address set the poller follows equal to the active accounts, in the same commit', async () => {
    const world = await paymentsWorld();
    await world.deploy();
    await world.start([]);
    const pool = world.pool();
    const members = async () => (await pool.query<{ address: string }>(`select address from address_sets where name = $1 order by address`, [`payments:${EVM_CHAIN}`])).rows.map((r) => r.address);

    const ana = await ensureUser(pool, { externalRef: 'user-ana', locale: 'es' });
    expect((await ensureUser(pool, { externalRef: 'user-ana' })).id).toBe(ana.id);
    const address = '0xAbCdEf0123456789aBcDeF0123456789AbCdEf01';
    const account = await addAccount(pool, { userId: ana.id, chain: EVM_CHAIN, address });
    expect(account.address).toBe(address.toLowerCase());
    expect(await members()).toEqual([address.toLowerCase()]);

    // One address per chain per user, and one user per address.
    await expect(addAccount(pool, { userId: ana.id, chain: EVM_CHAIN, address: '0x0000000000000000000000000000000000000001' })).rejects.toThrow(/unique/);
    const ben = await ensureUser(pool, { externalRef: 'user-ben' });
    await expect(addAccount(pool, { userId: ben.id, chain: EVM_CHAIN, address })).rejects.toThrow(/unique/);

    await setAccountActive(pool, account.id, false);
    expect(await members()).toEqual([]);
    await setAccountActive(pool, account.id, true);
    expect(await members()).toEqual([address.toLowerCase()]);

    // A rolled-back account never joins the set.
    const client = await pool.connect();
    try {
      await client.query('begin');
      await addAccount(client, { userId: ben.id, chain: EVM_CHAIN, address: '0x00000000000000000000000000000000000000b0' });
      await client.query('rollback');
    } finally {
      client.release();
    }
    expect(await members()).toEqual([address.toLowerCase()]);
  });

  it('normalises addresses per family and refuses what is not one', () => {
    expect(normalizeAddress('sui:testnet', '0x2')).toBe(`0x${'0'.repeat(63)}2`);
    expect(() => normalizeAddress(EVM_CHAIN, '0x123')).toThrow(InvalidAddressError);
    expect(() => normalizeAddress('sui:testnet', 'hello')).toThrow(InvalidAddressError);
  });
});
