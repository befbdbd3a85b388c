import { z } from 'zod';

const HttpStatusSchema = z.int().min(100).max(599);

/**
 * Config of the `http` step (alias `webhook`).
 * @example { "method": "POST", "url": "https://crm.example.com/contacts", "body": { "email": "{{ trigger.email }}" } }
 */
export const HttpConfigSchema = z.strictObject({
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']).default('GET'),
  url: z.url({ protocol: /^https?$/, error: 'url must be an absolute http(s) URL' }),
  headers: z.record(z.string(), z.string()).default({}),
  query: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
  /** An object or array is sent as JSON; a string as text unless a content-type header says otherwise. */
  body: z.unknown().optional(),
  /** Statuses that count as success; default: any 2xx. */
  expectStatus: z.array(HttpStatusSchema).min(1).optional(),
});
export type HttpConfig = z.infer<typeof HttpConfigSchema>;

/** The step's output (see HttpOutput in activity.ts): what a test's mocked output must look like. */
export const HttpOutputSchema = z.strictObject({
  status: HttpStatusSchema,
  headers: z.record(z.string(), z.string()).default({}),
  body: z.unknown(),
});
