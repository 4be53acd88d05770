import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { Wallet } from '@ethereumjs/wallet';
import { SignerKeyError, signerFromKeystore } from '../../src/chain/evm/relayer/signer.js';
import { CLI_WITH_TS_CONFIG, RunningCli, runCli, scratchDir } from '../harness/cli.js';
import { createEmptyDatabase } from '../harness/db.js';
import { packageRoot } from '../../src/runtime/paths.js';

/** `ledgersync` running the neutral test app. */
const LEDGER_APP = join(packageRoot, 'test', 'app', 'ledgersync.config.ts');

const KEY = '8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba';
const PASSWORD = 'correct horse battery staple';

/** A v3 keystore written by @ethereumjs/wallet (scrypt, light parameters so the test is quick). */
async function keystoreFile(dir: string): Promise<{ path: string; address: string }> {
  const wallet = Wallet.fromPrivateKey(Buffer.from(KEY, 'hex'));
  const path = join(dir, 'relayer.json');
  writeFileSync(path, JSON.stringify(await wallet.toV3(PASSWORD, { kdf: 'scrypt', n: 1024 })));
  return { path, address: wallet.getAddressString() };
}

describe('relayer signer from an encrypted keystore', () => {
  it('decrypts with the password, and says what is wrong otherwise without echoing secrets', async () => {
    const dir = scratchDir();
    const { path, address } = await keystoreFile(dir);
    expect((await signerFromKeystore(path, PASSWORD)).address.toLowerCase()).toBe(address);

    const wrong = await signerFromKeystore(path, 'hunter2').catch((e: Error) => e);
    expect(wrong).toBeInstanceOf(SignerKeyError);
    expect((wrong as Error).message).toBe(`cannot decrypt the keystore ${path}: wrong password`);
    writeFileSync(join(dir, 'broken.json'), '{ not json');
    await expect(signerFromKeystore(join(dir, 'broken.json'), PASSWORD)).rejects.toThrow(`the keystore file ${join(dir, 'broken.json')} is not JSON`);
    await expect(signerFromKeystore(join(dir, 'missing.json'), PASSWORD)).rejects.toThrow(`cannot read the keystore file ${join(dir, 'missing.json')}: ENOENT`);
  });

  it('runs `ledgersync worker` with a keystore, and stops it with one line on a wrong password; neither key nor password is printed', async () => {
    const cwd = scratchDir();
    const { path, address } = await keystoreFile(cwd);
    const database = await createEmptyDatabase();
    try {
      const env = { LEDGERSYNC_CONFIG: LEDGER_APP, DATABASE_URL: database.url, RPC_URL: inject('rpcUrl'), RELAYER_KEYSTORE_FILE: path, RELAYER_KEYSTORE_PASSWORD: PASSWORD, LOG_LEVEL: 'info' };
      const worker = new RunningCli(['worker'], { cwd, env, script: CLI_WITH_TS_CONFIG });
      const deadline = Date.now() + 30_000;
      while (!worker.output.includes('relayer started') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(worker.output).toContain(`"signer":"${address}"`);
      expect(worker.output).toContain('"apps":["ledger"]');
      expect(await worker.stop('SIGTERM')).toBe(0);

      const refused = await runCli(['worker'], { cwd, env: { ...env, RELAYER_KEYSTORE_PASSWORD: 'not the password' }, script: CLI_WITH_TS_CONFIG });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toBe(`ledgersync: cannot decrypt the keystore ${path}: wrong password\n`);
      for (const output of [worker.output, refused.stdout, refused.stderr]) {
        expect(output).not.toContain(PASSWORD);
        expect(output).not.toContain('not the password');
        expect(output).not.toContain(KEY);
      }
    } finally {
      await database.drop();
    }
  });

  it('runs one relayer per key when RELAYER_PRIVATE_KEY lists several', async () => {
    const cwd = scratchDir();
    const database = await createEmptyDatabase();
    try {
      const keys = [`0x${KEY}`, '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d'];
      const worker = new RunningCli(['worker'], {
        cwd,
        env: { LEDGERSYNC_CONFIG: LEDGER_APP, DATABASE_URL: database.url, RPC_URL: inject('rpcUrl'), RELAYER_PRIVATE_KEY: keys.join(','), LOG_LEVEL: 'info' },
        script: CLI_WITH_TS_CONFIG,
      });
      const deadline = Date.now() + 30_000;
      while ((worker.output.match(/relayer started/g) ?? []).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(worker.output).toContain(`"signer":"${Wallet.fromPrivateKey(Buffer.from(KEY, 'hex')).getAddressString()}"`);
      expect(worker.output).toContain('"signer":"0x70997970c51812dc3a010c7d01b50e0d17dc79c8"');
      expect(await worker.stop('SIGTERM')).toBe(0);
      expect(worker.output).not.toContain(KEY);
    } finally {
      await database.drop();
    }
  });
});
