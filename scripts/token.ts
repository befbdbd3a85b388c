// `npm run token -- [--tenant default] [--scopes admin] [--ttl 30d]`: prints an HS256 token signed
// with AUTH_HS256_SECRET (or the secret `npm run dev` generated in .data/dev-auth-secret).
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { mintToken } from '../src/shared/tokens.js';

const { values } = parseArgs({ options: { tenant: { type: 'string', default: 'default' }, scopes: { type: 'string', default: 'admin' }, ttl: { type: 'string', default: '30d' } } });
const devSecret = '.data/dev-auth-secret';
const secret = process.env.AUTH_HS256_SECRET ?? (existsSync(devSecret) ? readFileSync(devSecret, 'utf8').trim() : undefined);
if (!secret) {
  process.stderr.write('set AUTH_HS256_SECRET (or run npm run dev once to create a dev secret)\n');
  process.exit(1);
}
process.stdout.write(`${await mintToken(secret, { tenant: values.tenant, scopes: values.scopes.split(',').map((s) => s.trim()), ttl: values.ttl, audience: process.env.AUTH_AUDIENCE, issuer: process.env.AUTH_ISSUER })}\n`);
