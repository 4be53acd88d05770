import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findDeployment, readDeployments, recordDeployment, DeploymentsFileError } from '../../src/chain/evm/deployments.js';
import { scratchDir } from '../harness/cli.js';

describe('deployments file', () => {
  it('records deployments per chain id, keeping other chains and contracts', () => {
    const file = join(scratchDir(), 'nested', 'deployments.json');
    expect(readDeployments(file)).toEqual({});
    recordDeployment(file, 1, 'A', { address: '0x00000000000000000000000000000000000000aa', blockNumber: 5 });
    recordDeployment(file, 137, 'A', { address: '0xbde3d79beda04c550d8cafa9fc932c80c6dff312', blockNumber: 7 });
    recordDeployment(file, 1, 'B', { address: '0x00000000000000000000000000000000000000cc', blockNumber: 9 });
    expect(findDeployment(file, 1, 'A')?.blockNumber).toBe(5);
    // Addresses come back checksummed, whatever case they were written in.
    expect(findDeployment(file, 137, 'A')?.address).toBe('0xBdE3d79BEda04c550D8cafa9fC932C80C6DfF312');
    expect(findDeployment(file, 1, 'B')?.blockNumber).toBe(9);
    expect(Object.keys(JSON.parse(readFileSync(file, 'utf8')) as object)).toEqual(['1', '137']);
  });

  it.each([
    ['{ not json', /: not valid JSON/],
    ['{"1": {"A": {"address": "0x12", "blockNumber": 1}}}', /: 1\.A\.address: expected a 20-byte hex address$/],
    ['{"mainnet": {}}', /chain ids are decimal strings/],
    ['{"1": {"A": {"address": "0x00000000000000000000000000000000000000aa", "blockNumber": -1}}}', /: 1\.A\.blockNumber: /],
  ])('rejects %s with a message naming the file and the field', (content, message) => {
    const file = join(scratchDir(), 'deployments.json');
    writeFileSync(file, content);
    expect(() => readDeployments(file)).toThrow(DeploymentsFileError);
    expect(() => readDeployments(file)).toThrow(message);
  });
});
