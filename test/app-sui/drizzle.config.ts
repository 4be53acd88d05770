import { defineConfig } from 'drizzle-kit';

// The Sui test app's tables: `npx drizzle-kit generate --config test/app-sui/drizzle.config.ts`.
export default defineConfig({
  dialect: 'postgresql',
  schema: ['./test/app-sui/schema.ts'],
  out: './test/app-sui/migrations',
});
