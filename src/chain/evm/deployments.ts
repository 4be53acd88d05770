import { readFileSync, writeFileSync, renameSync, mkdirSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { getAddress, type Address, type Hex } from 'viem';

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'expected a 20-byte hex address').transform((a) => getAddress(a));
const deploymentSchema = z.object({
  address,
  /** The block the contract was created in: where indexing of its events starts. */
  blockNumber: z.number().int().nonnegative(),
  transactionHash: z.string().regex(/^0x[0-9a-fA-F]{64}$/).optional(),
  deployedAt: z.string().optional(),
});
// Chains by key (`evm:137`); a bare chain id (`137`, as files written before engine v2 have) means `evm:<id>`.
const fileSchema = z.record(z.string().regex(/^(\d+|[a-z]+:[\w-]+)$/, 'expected a chain key such as evm:137'), z.record(z.string(), deploymentSchema));

export type Deployment = z.infer<typeof deploymentSchema> & { address: Address; transactionHash?: Hex };
export type DeploymentsFile = Record<string, Record<string, Deployment>>;

export class DeploymentsFileError extends Error {
  override name = 'DeploymentsFileError';
}

/**
 * The deployments file maps chain key → contract name → address and start block.
 * `ledgersync deploy` writes it; to use contracts deployed elsewhere, write it by hand:
 * `{ "evm:137": { "BlockProofCredentialVault": { "address": "0x…", "blockNumber": 51234567 } } }`.
 */
export function readDeployments(path: string): DeploymentsFile {
  if (!existsSync(path)) return {};
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new DeploymentsFileError(`${path}: not valid JSON (${(error as Error).message})`);
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    // A bad chain id is reported by zod as an "invalid key" wrapping the real reason.
    const message = issue.code === 'invalid_key' ? (issue.issues[0]?.message ?? issue.message) : issue.message;
    throw new DeploymentsFileError(`${path}: ${issue.path.join('.')}: ${message}`);
  }
  const byKey: DeploymentsFile = {};
  for (const [chain, contracts] of Object.entries(parsed.data as DeploymentsFile)) {
    const key = /^\d+$/.test(chain) ? `evm:${chain}` : chain;
    byKey[key] = { ...byKey[key], ...contracts };
  }
  return byKey;
}

export function findDeployment(path: string, chain: string, name: string): Deployment | undefined {
  return readDeployments(path)[chain]?.[name];
}

/** Records one deployment; the file is replaced atomically so a crash never leaves half a file. */
export function recordDeployment(path: string, chain: string, name: string, deployment: Deployment): void {
  const all = readDeployments(path);
  all[chain] = { ...all[chain], [name]: deployment };
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(all, null, 2) + '\n');
  renameSync(tmp, path);
}
