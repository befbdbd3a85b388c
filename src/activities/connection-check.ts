import { AppError, issueProblems, type DefinitionProblem } from '../shared/errors.js';
import { assertSecretsPlaced, parseResolved, revealReferences } from './connection-kind.js';
import type { ConnectorDeps } from './define-connector.js';
import { registry } from './registry.js';
import { redact, redactText } from './secrets.js';

/**
 * The config of a connection about to be stored, checked against its kind: secret fields must be
 * `$secret('name')` references. Every problem at once, as INVALID_CONNECTION.
 */
export function checkStoredConnection(type: string, config: unknown): Record<string, unknown> {
  const kind = registry.connectionKinds.get(type);
  if (!kind) {
    const known = [...registry.connectionKinds.keys()].join(', ');
    throw new AppError({
      code: 'UNKNOWN_CONNECTION_TYPE',
      message: `unknown connection type '${type}'; known types: ${known}`,
      httpStatus: 400,
      details: [{ pointer: '/type', message: `known types: ${known}` }],
    });
  }
  const parsed = kind.storedSchema.safeParse(config);
  const misplaced = kind.misplacedSecrets(config);
  if (!parsed.success || misplaced.length > 0) {
    const problems: DefinitionProblem[] = [
      ...issueProblems(parsed.error?.issues ?? [], '/config'),
      ...misplaced.map((pointer) => ({
        pointer,
        message: "$secret() goes only in a field declared secret; this field's value is stored and shown as written",
      })),
    ];
    throw new AppError({
      code: 'INVALID_CONNECTION',
      message: `the ${type} connection has ${problems.length} problem${problems.length === 1 ? '' : 's'}`,
      httpStatus: 400,
      details: problems,
    });
  }
  // What was sent is stored (defaults are applied when it is used, so they can change).
  return typeof config === 'object' && config !== null && !Array.isArray(config)
    ? Object.fromEntries(Object.entries(config))
    : {};
}

/** What checking a stored connection found. */
export type ConnectionTestResult =
  | { ok: true; details: Record<string, unknown> }
  | { ok: false; error: { code: string; message: string; retryable: boolean } };

/**
 * Resolves a stored connection's secrets and runs its kind's check (an SMTP handshake, `SELECT 1`,
 * a metadata request) within `timeoutMs`. A failure is an answer, not an error; secrets are
 * redacted from it.
 */
export async function testConnection(
  tenantId: string,
  name: string,
  deps: ConnectorDeps,
  timeoutMs = 15_000,
): Promise<ConnectionTestResult> {
  if (!deps.connections)
    throw new AppError({ code: 'CONNECTIONS_UNAVAILABLE', message: 'no connection store', httpStatus: 503 });
  const stored = await deps.connections.get(tenantId, name);
  const kind = registry.connectionKinds.get(stored.type);
  if (!kind)
    throw new AppError({
      code: 'UNKNOWN_CONNECTION_TYPE',
      message: `connection '${name}' has the unknown type '${stored.type}'`,
      httpStatus: 400,
    });
  const { secrets } = deps;
  const used: string[] = [];
  try {
    assertSecretsPlaced(kind, stored.config, name);
    const revealed = await revealReferences(stored.config, (secret) => {
      if (!secrets) throw new AppError({ code: 'SECRETS_DISABLED', message: 'no secret store is configured' });
      return secrets.reveal(tenantId, secret);
    });
    used.push(...revealed.used);
    const config = parseResolved(kind.resolvedSchema, revealed.value, name);
    const details = await kind.test(config, { signal: AbortSignal.timeout(timeoutMs), deps });
    // What a check answers may echo its config (a host, a user): never a secret.
    return { ok: true, details: redact(details, used) };
  } catch (err) {
    const code = err instanceof AppError ? err.code : 'CONNECTION_FAULT';
    const message = redactText(err instanceof Error ? err.message : String(err), used);
    return { ok: false, error: { code, message, retryable: err instanceof AppError ? err.retryable : true } };
  }
}
