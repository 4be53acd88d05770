import type { ChainKey, ContractDefinition } from '../../engine/index.js';
import { cusdAbi, cusdBytecode } from '../../../contracts/artifacts/CUSD.js';
import { payAbi, payBytecode } from '../../../contracts/artifacts/Pay.js';
import { p2PTradeAbi, p2PTradeBytecode } from '../../../contracts/artifacts/P2PTrade.js';
import { CUSD_CONTRACT, P2P_CONTRACT, PAY_CONTRACT } from './settings.js';

export { cusdAbi, payAbi, p2PTradeAbi };

/**
 * Confío's EVM contracts, in deployment order (Pay and P2PTrade hold cUSD). The
 * deployer administers them; the platform signer mints cUSD, collects Pay's
 * fees and arbitrates P2P disputes.
 */
export function paymentsContracts(chain: ChainKey, platformRole: string, feeBps: number): ContractDefinition[] {
  return [
    { name: CUSD_CONTRACT, chain, abi: cusdAbi, bytecode: cusdBytecode, constructorArgs: ({ deployer, signer }) => [deployer, signer(platformRole)] },
    { name: PAY_CONTRACT, chain, abi: payAbi, bytecode: payBytecode, constructorArgs: ({ deployer, signer, deployed }) => [deployed(CUSD_CONTRACT), deployer, signer(platformRole), feeBps] },
    { name: P2P_CONTRACT, chain, abi: p2PTradeAbi, bytecode: p2PTradeBytecode, constructorArgs: ({ deployer, signer, deployed }) => [deployed(CUSD_CONTRACT), deployer, signer(platformRole)] },
  ];
}
