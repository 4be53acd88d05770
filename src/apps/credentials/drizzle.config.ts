import { defineConfig } from 'drizzle-kit';

// The credentials app's tables: `npx drizzle-kit generate --config src/apps/credentials/drizzle.config.ts`.
export default defineConfig({
  dialect: 'postgresql',
  schema: ['./src/apps/credentials/schema.ts'],
  out: './src/apps/credentials/migrations',
});
