import type { ChainKey, ContractDefinition } from '../../engine/index.js';
import { campaignAbi } from '../../../contracts/artifacts/Campaign.js';
import { campaignFactoryAbi, campaignFactoryBytecode } from '../../../contracts/artifacts/CampaignFactory.js';
import { investorRegistryAbi, investorRegistryBytecode } from '../../../contracts/artifacts/InvestorRegistry.js';
import { issuerRegistryAbi, issuerRegistryBytecode } from '../../../contracts/artifacts/IssuerRegistry.js';
import { shareCertificateAbi, shareCertificateBytecode } from '../../../contracts/artifacts/ShareCertificate.js';

export { campaignAbi, campaignFactoryAbi, investorRegistryAbi, issuerRegistryAbi, shareCertificateAbi };

/** Names in the deployments file. */
export const ISSUER_REGISTRY = 'IssuerRegistry';
export const INVESTOR_REGISTRY = 'InvestorRegistry';
export const CAMPAIGN_FACTORY = 'CampaignFactory';
export const SHARE_CERTIFICATE = 'ShareCertificate';

/**
 * The platform's contracts, in deployment order (the factory is built on both
 * registries, the certificates on the factory). The deployer administers them;
 * the signer with role `platform` registers issuers, verifies investors, creates
 * campaigns, records investments and mints: it is the key the relayer sends with.
 */
export function issuerContracts(chain: ChainKey, platformRole: string): ContractDefinition[] {
  return [
    { name: ISSUER_REGISTRY, chain, abi: issuerRegistryAbi, bytecode: issuerRegistryBytecode, constructorArgs: ({ deployer, signer }) => [deployer, signer(platformRole)] },
    { name: INVESTOR_REGISTRY, chain, abi: investorRegistryAbi, bytecode: investorRegistryBytecode, constructorArgs: ({ deployer, signer }) => [deployer, signer(platformRole)] },
    {
      name: CAMPAIGN_FACTORY,
      chain,
      abi: campaignFactoryAbi,
      bytecode: campaignFactoryBytecode,
      constructorArgs: ({ deployer, signer, deployed }) => [deployer, signer(platformRole), deployed(ISSUER_REGISTRY), deployed(INVESTOR_REGISTRY)],
    },
    { name: SHARE_CERTIFICATE, chain, abi: shareCertificateAbi, bytecode: shareCertificateBytecode, constructorArgs: ({ deployed }) => [deployed(CAMPAIGN_FACTORY)] },
  ];
}
