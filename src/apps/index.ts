import type { LedgersyncApp } from './types.js';
import { credentialsApp } from './credentials/index.js';

/** Every app this build runs. The engine reaches apps only through this list. */
export const apps: LedgersyncApp[] = [credentialsApp];
