import { evmFactorySource, evmSource, type ChainKey, type LedgersyncApp } from '../../engine/index.js';
import {
  campaignAbi,
  campaignFactoryAbi,
  investorRegistryAbi,
  issuerContracts,
  issuerRegistryAbi,
  shareCertificateAbi,
  CAMPAIGN_FACTORY,
  INVESTOR_REGISTRY,
  ISSUER_REGISTRY,
  SHARE_CERTIFICATE,
} from './contracts.js';
import { DEFAULT_AML, type AmlPolicy } from './aml.js';
import { CLOSE_TASK } from './campaigns.js';
import { issuerIntents } from './intents.js';
import { certificatesProjection, chainCampaignsProjection, chainInvestorsProjection, chainIssuersProjection } from './projections.js';
import { issuerRoutes } from './routes.js';
import { reviewPage } from './page.js';
import { issuerCommands } from './commands.js';
import { issuerTasks } from './tasks.js';
import type { IssuerSettings } from './settings.js';

export interface IssuerOptions {
  /** The chain the platform's contracts live on (a Polygon Edge chain: legacy gas). */
  chain: ChainKey;
  /** The signer role (or address) that sends the platform's transactions and holds its contract roles; default `default`. */
  platformSigner?: string;
  /** The AML rules; what is left out keeps its default (aml.ts). */
  aml?: Partial<AmlPolicy>;
  /** Seconds without a final answer before a deployment is given up (the campaign back to `approved`); default 120. */
  deployTimeoutSeconds?: number;
}

/**
 * The issuer platform (seed 003): companies raise crowdfunding campaigns on
 * chain. Registering a company registers its issuer, approving a campaign
 * deploys its contract through the factory, investments are recorded on it, and
 * a successful close mints share certificates (a failed one refunds), each step
 * one PostgreSQL transaction with its outbox intents, each outcome back through
 * intent handlers and projections.
 */
export function issuerApp(options: IssuerOptions): LedgersyncApp {
  const settings: IssuerSettings = {
    chain: options.chain,
    platformSigner: options.platformSigner ?? 'default',
    aml: { ...DEFAULT_AML, ...options.aml },
    deployTimeoutSeconds: options.deployTimeoutSeconds ?? 120,
  };
  const { chain } = settings;
  return {
    name: 'issuer',
    migrations: 'src/apps/issuer/migrations',
    contracts: issuerContracts(chain, settings.platformSigner),
    sources: [
      evmSource({ name: 'issuers', chain, abi: issuerRegistryAbi, contract: ISSUER_REGISTRY }),
      evmSource({ name: 'investors', chain, abi: investorRegistryAbi, contract: INVESTOR_REGISTRY }),
      evmSource({ name: 'factory', chain, abi: campaignFactoryAbi, contract: CAMPAIGN_FACTORY }),
      evmFactorySource({ name: 'campaigns', chain, abi: campaignAbi, factory: { source: 'factory', event: 'CampaignCreated', parameter: 'campaign' } }),
      evmSource({ name: 'certificates', chain, abi: shareCertificateAbi, contract: SHARE_CERTIFICATE }),
    ],
    projections: [chainIssuersProjection, chainInvestorsProjection, chainCampaignsProjection, certificatesProjection],
    intents: issuerIntents(settings),
    tasks: issuerTasks(settings),
    // Every minute, besides the job queued for each campaign's deadline: a worker that was down catches up.
    schedules: [{ task: CLOSE_TASK, cron: '* * * * *', backfillPeriod: 0 }],
    commands: issuerCommands,
    routes: async (app, context) => {
      await issuerRoutes(app, context, settings);
      await reviewPage(app);
    },
  };
}
