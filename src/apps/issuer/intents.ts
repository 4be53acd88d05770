import { evmIntent, type IntentKind, type IntentPorts, type SettledIntent } from '../../engine/index.js';
import type pg from 'pg';
import { campaignAbi, campaignFactoryAbi, investorRegistryAbi, issuerRegistryAbi, shareCertificateAbi, CAMPAIGN_FACTORY, INVESTOR_REGISTRY, ISSUER_REGISTRY, SHARE_CERTIFICATE } from './contracts.js';
import { companyRegistered, companyRegistrationFailed } from './companies.js';
import { investorVerificationFailed, investorVerified } from './investors.js';
import { campaignDeployed, campaignDeployFailed, campaignFinalized, campaignFinalizeFailed } from './campaigns.js';
import { certificateFailed, certificateMinted, investmentRecorded, investmentRecordFailed, investmentRefunded, refundFailed } from './investments.js';
import { actAs } from './state.js';
import type { IssuerSettings } from './settings.js';

type Handler = (intent: SettledIntent, client: pg.PoolClient, ports: IntentPorts, settings: IssuerSettings) => Promise<void>;

/**
 * What the platform writes on chain and what it does with each final outcome.
 * Outcomes are handled in the relayer's transaction (the intent's state and the
 * business rows change together) and in the audit log are signed `chain`. A
 * revert that says the write already happened (IssuerAlreadyRegistered,
 * CampaignExists, InvestmentAlreadyRecorded, AlreadyFinalized,
 * CertificateAlreadyMinted, AlreadyRefunded) counts as done: it is what a
 * retried write meets when its first attempt landed.
 */
export function issuerIntents(settings: IssuerSettings): IntentKind[] {
  const { chain } = settings;
  const on = (handler: Handler) => async (intent: SettledIntent, client: pg.PoolClient, ports: IntentPorts) => {
    await actAs(client, 'chain');
    await handler(intent, client, ports, settings);
  };
  return [
    evmIntent({ name: 'issuer.registerIssuer', chain, abi: issuerRegistryAbi, contract: ISSUER_REGISTRY, onConfirmed: on(companyRegistered), onFailed: on(companyRegistrationFailed) }),
    evmIntent({ name: 'issuer.verifyInvestor', chain, abi: investorRegistryAbi, contract: INVESTOR_REGISTRY, onConfirmed: on(investorVerified), onFailed: on(investorVerificationFailed) }),
    evmIntent({ name: 'issuer.createCampaign', chain, abi: campaignFactoryAbi, contract: CAMPAIGN_FACTORY, onConfirmed: on(campaignDeployed), onFailed: on(campaignDeployFailed) }),
    evmIntent({ name: 'issuer.recordInvestment', chain, abi: campaignAbi, onConfirmed: on(investmentRecorded), onFailed: on(investmentRecordFailed) }),
    evmIntent({ name: 'issuer.finalize', chain, abi: campaignAbi, onConfirmed: on(campaignFinalized), onFailed: on(campaignFinalizeFailed) }),
    evmIntent({ name: 'issuer.refund', chain, abi: campaignAbi, onConfirmed: on(investmentRefunded), onFailed: on(refundFailed) }),
    evmIntent({ name: 'issuer.mint', chain, abi: shareCertificateAbi, contract: SHARE_CERTIFICATE, onConfirmed: on(certificateMinted), onFailed: on(certificateFailed) }),
  ];
}
