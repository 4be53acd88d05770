/// <reference lib="dom" />
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { chromium } from 'playwright-core';
import { buildServer } from '../../src/http/server.js';
import { createLogger } from '../../src/runtime/logger.js';
import { credentialsApp } from '../../src/apps/credentials/index.js';
import { documentFingerprint } from '../../src/apps/credentials/routes.js';
import { packageRoot } from '../../src/runtime/paths.js';
import { vaultWorld } from '../harness/vault-world.js';
import { runIndexer } from '../harness/credentials-indexer.js';
import { testAppContext } from '../harness/app-context.js';
import { scratchDir } from '../harness/cli.js';

const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** The public page in headless Chromium: by id, by a dropped file, and the shared link with its QR code. */
describe('verification page', () => {
  it('verifies a credential by id and by document in the browser, without uploading the document', async () => {
    const world = await vaultWorld();
    const diploma = Buffer.from('%PDF-1.7\n% Diploma: Katherine Johnson, Mathematics\n%%EOF\n');
    await world.issueFingerprint(documentFingerprint(diploma), 'ipfs://katherine');
    const head = await world.issueFingerprint(documentFingerprint(Buffer.from('another diploma')));
    await world.revoke(2n);
    const live = await runIndexer(world.rpcUrl, { deploymentsFile: world.deploymentsFile });
    await live.indexer.waitForBlock(head + 1n);
    const server = await buildServer({
      logger: createLogger('silent'),
      readiness: [],
      version: 'test',
      routes: [(app) => credentialsApp({ chain: live.evm.key }).routes!(app, testAppContext(live.database.pool, live.evm, world.deploymentsFile)(app))],
    });
    const base = await server.listen({ host: '127.0.0.1', port: 0 });
    onTestFinished(() => server.close());

    if (!existsSync(CHROMIUM)) throw new Error(`the browser test needs Chromium at ${CHROMIUM}: apt-get install -y chromium, or set CHROMIUM_BIN`);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    onTestFinished(() => browser.close());
    const page = await browser.newPage();
    const posted: string[] = [];
    page.on('request', (request) => {
      if (request.method() === 'POST') posted.push(request.postData() ?? '');
    });

    const errors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    // By id only.
    const response = await page.goto(`${base}/`);
    expect(response!.headers()['content-security-policy']).toMatch(/^default-src 'none'; script-src 'sha256-/);
    await page.fill('#credential', '1');
    await page.click('button[type=submit]');
    await expect.poll(() => page.textContent('#verdict')).toBe('VALID');
    expect(await page.textContent('#steps')).toContain('document integrity: not checked');

    // By document: the right one, then a forged one.
    const dir = scratchDir();
    writeFileSync(join(dir, 'diploma.pdf'), diploma);
    await page.setInputFiles('#file', join(dir, 'diploma.pdf'));
    await page.click('button[type=submit]');
    await expect.poll(() => page.textContent('#steps')).toContain('matches');
    expect(await page.textContent('#verdict')).toBe('VALID');
    expect(await page.textContent('#result')).toContain('Universidad');
    mkdirSync(join(packageRoot, 'test-artifacts'), { recursive: true });
    await page.screenshot({ path: join(packageRoot, 'test-artifacts', 'verify-page.png'), fullPage: true });

    // A forged one, dropped on the page as a user drags a file onto it.
    const forged = [...Buffer.from('%PDF-1.7\n% Diploma: Katherine Johnson, Physics\n%%EOF\n')];
    const dataTransfer = await page.evaluateHandle((bytes) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([new Uint8Array(bytes)], 'forged.pdf', { type: 'application/pdf' }));
      return transfer;
    }, forged);
    await page.dispatchEvent('#drop', 'drop', { dataTransfer });
    expect(await page.textContent('#fileName')).toContain('forged.pdf');
    await page.click('button[type=submit]');
    await expect.poll(() => page.textContent('#verdict')).toBe('INVALID');
    // Only fingerprints left the browser, never the file.
    expect(posted.length).toBeGreaterThanOrEqual(2);
    for (const body of posted) {
      expect(Object.keys(JSON.parse(body)).sort()).toEqual(['credentialId', 'fingerprint']);
      expect(body).not.toContain('Katherine');
    }

    // The shared link verifies on load; its QR code is served.
    await page.goto(`${base}/verify/2`);
    await expect.poll(() => page.textContent('#verdict')).toBe('REVOKED');
    const qr = await page.request.get(`${base}/verify/2/qr.svg`);
    expect(qr.headers()['content-type']).toContain('image/svg+xml');
    expect(await qr.text()).toMatch(/^<svg/);
    expect(await page.locator('.share img').count()).toBe(1);
    await page.goto(`${base}/verify/999`);
    await expect.poll(() => page.textContent('#verdict')).toBe('UNKNOWN');
    // The page's own script and style ran under its Content-Security-Policy: nothing was refused.
    expect(errors.filter((e) => /Content Security Policy/i.test(e))).toEqual([]);
  });
});
