import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findDeployment, readDeployments, recordDeployment, DeploymentsFileError } from '../../src/chain/evm/deployments.js';
import { scratchDir } from '../harness/cli.js';

describe('deployments file', () => {
  it('records deployments per chain key, keeping other chains and contracts', () => {
    const file = join(scratchDir(), 'nested', 'deployments.json');
    expect(readDeployments(file)).toEqual({});
    recordDeployment(file, 'evm:1', 'A', { address: '0x00000000000000000000000000000000000000aa', blockNumber: 5 });
    recordDeployment(file, 'evm:137', 'A', { address: '0xbde3d79beda04c550d8cafa9fc932c80c6dff312', blockNumber: 7 });
    recordDeployment(file, 'evm:1', 'B', { address: '0x00000000000000000000000000000000000000cc', blockNumber: 9 });
    expect(findDeployment(file, 'evm:1', 'A')?.blockNumber).toBe(5);
    // Addresses come back checksummed, whatever case they were written in.
    expect(findDeployment(file, 'evm:137', 'A')?.address).toBe('0xBdE3d79BEda04c550D8cafa9fC932C80C6DfF312');
    expect(findDeployment(file, 'evm:1', 'B')?.blockNumber).toBe(9);
    expect(Object.keys(JSON.parse(readFileSync(file, 'utf8')) as object)).toEqual(['evm:1', 'evm:137']);
  });

  it('reads a bare chain id, as files written before chain keys have, as the EVM chain of that id', () => {
    const file = join(scratchDir(), 'deployments.json');
    writeFileSync(file, JSON.stringify({ '137': { A: { address: '0x00000000000000000000000000000000000000aa', blockNumber: 5 } } }));
    expect(findDeployment(file, 'evm:137', 'A')?.blockNumber).toBe(5);
  });

  it.each([
    ['{ not json', /: not valid JSON/],
    ['{"1": {"A": {"address": "0x12", "blockNumber": 1}}}', /: 1\.A\.address: expected a 20-byte hex address$/],
    ['{"mainnet": {}}', /expected a chain key such as evm:137/],
    ['{"1": {"A": {"address": "0x00000000000000000000000000000000000000aa", "blockNumber": -1}}}', /: 1\.A\.blockNumber: /],
  ])('rejects %s with a message naming the file and the field', (content, message) => {
    const file = join(scratchDir(), 'deployments.json');
    writeFileSync(file, content);
    expect(() => readDeployments(file)).toThrow(DeploymentsFileError);
    expect(() => readDeployments(file)).toThrow(message);
  });
});
