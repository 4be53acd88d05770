import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { HttpRequestError, WebSocketRequestError } from 'viem';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/runtime/logger.js';
import { configSecrets } from '../../src/config/secrets.js';
import { evmChain } from '../../src/engine/config.js';
import { createScrubber, redactUrl } from '../../src/runtime/redact.js';

const INFURA_KEY = '0123456789abcdef0123456789abcdef';
const ALCHEMY_KEY = 'aBcDeFgHiJ_kLmNoPqRsT-uVwXyZ2468';
const QUERY_KEY = 'Zy9xW8vU7tS6rQ5p';
const WS_KEY = 'wsKEYwsKEY1234567890';
const RPC_USER = 'projectUser';
const RPC_PASSWORD = 'rpcPass-77';
// Characters that JSON escapes and URLs encode.
const DB_PASSWORD = 'p@ss"w\\rd/é:1';
const DEPLOYER_KEY = `0x${'ab'.repeat(32)}`;
const RELAYER_KEY = `0x${'cd'.repeat(32)}`;
const KEYSTORE_PASSWORD = 'correct horse battery';
const WEBHOOK_SECRET = 'whsec_0123456789abcdef';

const env = {
  DATABASE_URL: `postgres://ledgersync:${encodeURIComponent(DB_PASSWORD)}@db.internal:5432/ledgersync`,
  RPC_URL: `https://${RPC_USER}:${RPC_PASSWORD}@eth-mainnet.example/v2/${ALCHEMY_KEY}/${INFURA_KEY}?apikey=${QUERY_KEY}&network=mainnet`,
  WS_URL: `wss://eth-mainnet.example/ws/v2/${WS_KEY}`,
  DEPLOYER_PRIVATE_KEY: DEPLOYER_KEY,
  WEBHOOK_URLS: 'https://hooks.example/ledgersync',
  WEBHOOK_SECRET,
};

/** Every way the secrets above can be spelled in a line of output. */
function spellings(secret: string): string[] {
  const forms = [secret, secret.replace(/^0x/, ''), encodeURIComponent(secret)];
  return [...forms, ...forms.map((f) => JSON.stringify(f).slice(1, -1)), ...forms.map((f) => JSON.stringify(JSON.stringify(f)).slice(1, -1))];
}

function capture(secrets: string[]) {
  let output = '';
  const destination = new Writable({ write: (chunk, _encoding, done) => ((output += String(chunk)), done()) });
  return { logger: createLogger('info', { destination, secrets }), output: () => output };
}

describe('secrets in logs', () => {
  it('scrubs every configured secret, in each spelling, from errors the logger serialises (message, stack, url, details, metaMessages, nested causes)', () => {
    const withKey = loadConfig({ ...env, RELAYER_PRIVATE_KEY: RELAYER_KEY }, '/');
    const withKeystore = loadConfig({ ...env, RELAYER_KEYSTORE_FILE: 'relayer.json', RELAYER_KEYSTORE_PASSWORD: KEYSTORE_PASSWORD }, '/');
    const { logger, output } = capture([...configSecrets(withKey), ...configSecrets(withKeystore)]);

    const socketError = new Error(`connect ECONNREFUSED; signing with ${RELAYER_KEY} and ${KEYSTORE_PASSWORD} for ${WEBHOOK_SECRET}`);
    const http = new HttpRequestError({ url: withKey.chains[0]!.endpoint.kind === 'rpc' ? withKey.chains[0]!.endpoint.rpcUrl : '', status: 502, details: `upstream ${ALCHEMY_KEY}`, cause: socketError });
    const ws = new WebSocketRequestError({ url: env.WS_URL, details: 'socket closed' });
    const outer = new Error('step failed', { cause: new Error(`database said: password "${DB_PASSWORD}" rejected for ${env.DATABASE_URL}`, { cause: http }) });
    logger.warn({ err: outer, ws, quoted: JSON.stringify({ message: http.message }) }, 'relayer step failed');
    logger.error(`deploying with ${DEPLOYER_KEY.slice(2).toUpperCase()}`);

    const text = output();
    expect(text).toContain('relayer step failed');
    expect(text).toContain('eth-mainnet.example/v2/redacted/redacted?apikey=redacted&network=mainnet');
    for (const secret of [INFURA_KEY, ALCHEMY_KEY, QUERY_KEY, WS_KEY, RPC_USER, RPC_PASSWORD, DB_PASSWORD, DEPLOYER_KEY, RELAYER_KEY, KEYSTORE_PASSWORD, WEBHOOK_SECRET]) {
      for (const form of spellings(secret)) expect(text.toLowerCase(), `${secret} as ${form}`).not.toContain(form.toLowerCase());
    }
  });

  it("scrubs the secrets of a config file's chains too (keys and URLs the environment gives under names of their own)", () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://u:pw@db/x' }, '/');
    const polygonKey: `0x${string}` = `0x${'7c'.repeat(32)}`;
    const listed = evmChain({ id: 137, rpc: 'https://polygon.example/rpc?token=plainwordsecret42', signers: [{ privateKey: polygonKey }] })({ chain: config.chains[0]!, home: '/h', index: 0, keys: { signers: [], deployerPrivateKey: undefined }, devKey: `0x${'01'.repeat(32)}` as `0x${string}`, suiDevKey: 'suiprivkey1' });
    const scrub = createScrubber(configSecrets(config, [listed]));
    const line = `signing with ${polygonKey.slice(2)} for https://polygon.example/rpc?token=plainwordsecret42 failed`;
    expect(scrub(line)).not.toContain('7c7c7c7c');
    expect(scrub(line)).not.toContain('plainwordsecret42');
    expect(createScrubber(configSecrets(config))(line)).toContain('7c7c7c7c');
  });

  it('redacts key-like parts of URLs the configuration does not know', () => {
    const scrub = createScrubber([]);
    const line = scrub(
      'calls to https://polygon-mainnet.g.alchemy.com/v2/aBcDeFgHiJkLmNoPqRsTuVwXyZ and https://mainnet.infura.io/v3/0123456789abcdef0123456789abcdef?x=1 ' +
        'and wss://node.example/ws?token=short&chain=137 failed (see https://docs.example/errors/rate-limits)',
    );
    expect(line).toBe(
      'calls to https://polygon-mainnet.g.alchemy.com/v2/redacted and https://mainnet.infura.io/v3/redacted?x=1 ' +
        'and wss://node.example/ws?token=redacted&chain=137 failed (see https://docs.example/errors/rate-limits)',
    );
  });

  it.each([
    ['postgres://app:s3cret@db:5432/app', 'postgres://app:redacted@db:5432/app'],
    ['https://rpc.example/v1?apikey=abc', 'https://rpc.example/v1?apikey=redacted'],
    ['https://eth-mainnet.example/v2/0123456789abcdef0123456789abcdef', 'https://eth-mainnet.example/v2/redacted'],
    ['https://eth-mainnet.g.alchemy.com/v2/aBcDeFgHiJkLmNoPqRsTuVwXyZ', 'https://eth-mainnet.g.alchemy.com/v2/redacted'],
    ['https://polygon-mainnet-archive.example/rpc', 'https://polygon-mainnet-archive.example/rpc'],
    ['http://127.0.0.1:8545', 'http://127.0.0.1:8545/'],
  ])('redactUrl(%s) is %s', (url, safe) => {
    expect(redactUrl(url)).toBe(safe);
  });
});
