import { z } from 'zod';

/**
 * A zod schema as the JSON schema a Fastify route validates with (ajv, draft-07)
 * and the OpenAPI document shows: one definition for both. Handlers still
 * `parse` with zod to get the typed, coerced value.
 */
export function routeSchema(schema: z.ZodType): Record<string, unknown> {
  return z.toJSONSchema(schema, { target: 'draft-7', io: 'input' }) as Record<string, unknown>;
}
