import { defineConfig } from 'drizzle-kit';

// The engine's tables. `npm run db:generate` writes a new SQL migration into drizzle/ from these
// schema files; commit it. Each app has its own config and migrations (src/apps/<app>/drizzle.config.ts).
export default defineConfig({
  dialect: 'postgresql',
  schema: ['./src/db/schema.ts', './src/core/relayer/schema.ts', './src/chain/evm/schema.ts', './src/chain/sui/schema.ts'],
  out: './drizzle',
});
