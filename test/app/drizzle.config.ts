import { defineConfig } from 'drizzle-kit';

// The test app's tables: `npx drizzle-kit generate --config test/app/drizzle.config.ts`.
export default defineConfig({
  dialect: 'postgresql',
  schema: ['./test/app/schema.ts'],
  out: './test/app/migrations',
});
