import { z } from 'zod';
import { pathProblem, SECRET_NAME } from '../../definitions/secret-reference.js';

/** A credential field of a store: a `$secret('name')` reference to the engine's own sealed store, never a value. */
export const CredentialReference = z
  .string()
  .regex(/^\$secret\('[A-Za-z0-9_.-]{1,100}'\)$/, "a credential is a $secret('name') reference to a stored secret");

/** The built-in secret a credential reference names. */
export const credentialName = (reference: string): string => reference.slice("$secret('".length, -"')".length);

/** A prefix or mount: relative path segments, no `..`. */
const RelativePath = (what: string, allowEmpty: boolean) =>
  z
    .string()
    .max(512)
    .transform((s) => s.replace(/^\/+|\/+$/g, ''))
    .superRefine((s, ctx) => {
      if (s === '' && allowEmpty) return;
      const problem = pathProblem(s);
      if (problem) ctx.addIssue({ code: 'custom', message: `${what}: ${problem}` });
    });

const HttpUrl = z
  .url({ protocol: /^https?$/ })
  .max(2048)
  .refine((u) => !new URL(u).username && !new URL(u).password, 'no credentials in the address');

export const VaultAuthSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('token'), token: CredentialReference }),
  z.strictObject({
    type: z.literal('approle'),
    roleId: z.string().min(1).max(200),
    secretId: CredentialReference,
    mount: RelativePath('mount', false).default('approle'),
  }),
  z.strictObject({
    type: z.literal('kubernetes'),
    role: z.string().min(1).max(200),
    mount: RelativePath('mount', false).default('kubernetes'),
  }),
]);

/** A Vault KV v2 store. */
export const VaultStoreConfigSchema = z.strictObject({
  address: HttpUrl,
  namespace: z.string().min(1).max(200).optional(),
  mount: RelativePath('mount', false).default('secret'),
  pathPrefix: RelativePath('pathPrefix', true),
  auth: VaultAuthSchema,
});

export const AwsAuthSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('default') }),
  z.strictObject({
    type: z.literal('static'),
    accessKeyId: CredentialReference,
    secretAccessKey: CredentialReference,
    sessionToken: CredentialReference.optional(),
  }),
]);

/** An AWS Secrets Manager store. */
export const AwsStoreConfigSchema = z.strictObject({
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region such as eu-west-1'),
  endpoint: HttpUrl.optional(),
  pathPrefix: RelativePath('pathPrefix', true),
  auth: AwsAuthSchema,
});

export type VaultStoreConfig = z.output<typeof VaultStoreConfigSchema>;
export type AwsStoreConfig = z.output<typeof AwsStoreConfigSchema>;

export const SecretStoreSchema = z.discriminatedUnion('type', [
  z.strictObject({ name: z.string().regex(SECRET_NAME), type: z.literal('vault'), config: VaultStoreConfigSchema }),
  z.strictObject({ name: z.string().regex(SECRET_NAME), type: z.literal('aws'), config: AwsStoreConfigSchema }),
]);

export type SecretStore = z.output<typeof SecretStoreSchema>;

/** How the operator lets stores use the worker's own identity (AWS default chain, Vault Kubernetes auth). */
export interface AmbientPolicy {
  /** SECRET_STORES_AMBIENT_PREFIX: `{tenant}` is the tenant's id; empty: ambient identities are refused. */
  prefix: string;
  /** SECRET_STORES_AMBIENT_VAULTS: the Vault addresses the worker's service-account token may be sent to. */
  vaults: readonly string[];
}

/**
 * Why a store may not use the worker's own identity, if it may not. That identity is shared by
 * every tenant, so a store using it is held under the operator's per-tenant prefix, and a
 * Kubernetes service-account token goes only to a Vault the operator named.
 */
export function ambientProblem(store: SecretStore, tenantId: string, policy: AmbientPolicy): string | undefined {
  const ambient =
    (store.type === 'aws' && store.config.auth.type === 'default') ||
    (store.type === 'vault' && store.config.auth.type === 'kubernetes');
  if (!ambient) return undefined;
  if (!policy.prefix)
    return "the worker's own identity is not offered to secret stores (SECRET_STORES_AMBIENT_PREFIX is unset)";
  const required = policy.prefix.replaceAll('{tenant}', tenantId).replace(/^\/+|\/+$/g, '');
  const prefix = store.config.pathPrefix;
  if (prefix !== required && !prefix.startsWith(`${required}/`))
    return `a store using the worker's own identity keeps its pathPrefix under '${required}'`;
  if (store.type === 'vault' && !policy.vaults.includes(new URL(store.config.address).origin))
    return `Kubernetes auth sends the worker's service-account token only to a Vault in SECRET_STORES_AMBIENT_VAULTS`;
  return undefined;
}
