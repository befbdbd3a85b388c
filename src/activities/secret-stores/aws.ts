import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AppError } from '../../shared/errors.js';
import type { HostGuard } from '../host-guard.js';
import { credentialName, type AwsStoreConfig } from './config.js';
import { secretAccessDenied, secretNotFound, secretStoreUnavailable } from './failures.js';

const DENIED = new Set([
  'AccessDeniedException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'InvalidClientTokenId',
  'ExpiredTokenException',
  'DecryptionFailure',
]);
const NOT_FOUND = new Set(['ResourceNotFoundException', 'InvalidRequestException', 'InvalidParameterException']);

/** What an AWS store needs besides its config. */
export interface AwsDeps {
  guard: HostGuard;
  credential: (name: string) => Promise<string>;
}

/**
 * AWS Secrets Manager through the official SDK: the default provider chain (environment, IRSA,
 * instance role) or static keys from the engine's own store. A secret is a JSON object; `@label`
 * pins a version stage (`AWSPREVIOUS`). The SDK does not retry: the step's policy does.
 * @example await awsStore(config, deps).read('prod/db') // { password: '…' }
 */
export function awsStore(config: AwsStoreConfig, deps: AwsDeps) {
  const client = async () => {
    // A custom endpoint is held to the connectors' guard (private addresses, the engine's own
    // services), and the SDK connects to the address the guard checked: a second DNS answer
    // (rebinding) cannot send it elsewhere. TLS still verifies the endpoint's name.
    let agents = {};
    if (config.endpoint) {
      const url = new URL(config.endpoint);
      const address = await deps.guard.resolve(
        url.hostname.replace(/^\[|\]$/g, ''),
        Number(url.port) || (url.protocol === 'https:' ? 443 : 80),
        'SECRET_STORE',
      );
      const lookup = pinnedLookup(address);
      agents = { httpAgent: new HttpAgent({ lookup }), httpsAgent: new HttpsAgent({ lookup }) };
    }
    const { auth } = config;
    const credentials =
      auth.type === 'static'
        ? {
            accessKeyId: await deps.credential(credentialName(auth.accessKeyId)),
            secretAccessKey: await deps.credential(credentialName(auth.secretAccessKey)),
            ...(auth.sessionToken ? { sessionToken: await deps.credential(credentialName(auth.sessionToken)) } : {}),
          }
        : undefined;
    return new SecretsManagerClient({
      region: config.region,
      maxAttempts: 1,
      requestHandler: { connectionTimeout: 5_000, requestTimeout: 10_000, ...agents },
      ...(config.endpoint ? { endpoint: config.endpoint } : {}),
      ...(credentials ? { credentials } : {}),
    });
  };

  const get = async (path: string, stage?: string) => {
    const sm = await client();
    try {
      return await sm.send(new GetSecretValueCommand({ SecretId: path, ...(stage ? { VersionStage: stage } : {}) }));
    } catch (err) {
      throw classify(err, path);
    } finally {
      sm.destroy();
    }
  };

  return {
    async read(path: string, stage?: string): Promise<Record<string, unknown>> {
      const out = await get(path, stage);
      const parsed = parseObject(out.SecretString);
      if (!parsed) throw secretNotFound(`${path} is not a JSON object in AWS Secrets Manager`);
      return parsed;
    },
    async probe(path: string): Promise<void> {
      try {
        await get(path);
      } catch (err) {
        if (!(err instanceof AppError) || err.code !== 'SECRET_NOT_FOUND') throw err;
      }
    },
  };
}

/** A DNS lookup that answers `address` for any name (the one the guard resolved and checked). */
function pinnedLookup(address: string): LookupFunction {
  const family = isIP(address);
  return (_host, options, callback) => {
    if (options.all)
      (callback as (e: null, all: { address: string; family: number }[]) => void)(null, [{ address, family }]);
    else callback(null, address, family);
  };
}

function classify(err: unknown, path: string): AppError {
  if (err instanceof AppError) return err;
  const name = err instanceof Error ? err.name : '';
  if (NOT_FOUND.has(name)) return secretNotFound(`${path} does not exist in AWS Secrets Manager (${name})`, err);
  if (DENIED.has(name)) return secretAccessDenied(`AWS Secrets Manager refused ${path} (${name})`, err);
  if (name === 'CredentialsProviderError')
    return secretAccessDenied('no AWS credentials were found in the default provider chain', err);
  return secretStoreUnavailable(`AWS Secrets Manager could not be read for ${path} (${name || 'error'})`, err);
}

function parseObject(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined || text.length > 65_536) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value))
      : undefined;
  } catch {
    return undefined;
  }
}
