// `npm run token -- [--tenant default] [--scopes workflows:read,runs:read] [--ttl 1h]`: prints an
// HS256 token signed with AUTH_HS256_SECRET (or the secret `npm run dev` generated in
// .data/dev-auth-secret). Least privilege unless asked: `--scopes admin` for everything.
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { decodeJwt } from 'jose';
import { loadConfig } from '../src/shared/config.js';
import { DEFAULT_TOKEN, mintToken } from '../src/shared/tokens.js';

const { values } = parseArgs({
  options: {
    tenant: { type: 'string', default: 'default' },
    scopes: { type: 'string', default: DEFAULT_TOKEN.scopes.join(',') },
    ttl: { type: 'string', default: DEFAULT_TOKEN.ttl },
  },
});
const devSecret = '.data/dev-auth-secret';
const config = loadConfig({
  ...(existsSync(devSecret) ? { AUTH_HS256_SECRET: readFileSync(devSecret, 'utf8').trim() } : {}),
  ...process.env,
});
if (!config.AUTH_HS256_SECRET) {
  process.stderr.write('set AUTH_HS256_SECRET (or run npm run dev once to create a dev secret)\n');
  process.exit(1);
}
const scopes = values.scopes
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const token = await mintToken(config.AUTH_HS256_SECRET, {
  tenant: values.tenant,
  scopes,
  ttl: values.ttl,
  audience: config.AUTH_AUDIENCE,
  issuer: config.AUTH_ISSUER,
  tenantClaim: config.AUTH_TENANT_CLAIM,
});
const { exp = 0, iat = 0 } = decodeJwt(token);
if (exp - iat > config.AUTH_MAX_TOKEN_AGE_S) {
  process.stderr.write(
    `--ttl ${values.ttl} is longer than AUTH_MAX_TOKEN_AGE_S (${config.AUTH_MAX_TOKEN_AGE_S} s): the API would refuse the token\n`,
  );
  process.exit(1);
}
process.stdout.write(`${token}\n`);
