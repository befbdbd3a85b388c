import nodemailer from 'nodemailer';
import { z } from 'zod';
import { untilAborted } from '../abort.js';
import { defineConnectionKind, type ConnectionConfig } from '../connection-kind.js';
import { createHostGuard } from '../host-guard.js';
import { smtpError } from './errors.js';

/**
 * An `smtp` connection: the relay and its credentials.
 * @example { "host": "smtp.example.com", "port": 587, "secure": false, "user": "mailer", "password": "$secret('smtp_password')" }
 */
export const smtpConnection = defineConnectionKind({
  type: 'smtp',
  description: 'An SMTP relay: host, port, implicit TLS or STARTTLS, and optional credentials.',
  example: { host: 'smtp.example.com', port: 587, secure: false, user: 'mailer', password: "$secret('smtp_password')" },
  schema: (secret) =>
    z.strictObject({
      host: z.string().min(1).max(255),
      port: z.int().min(1).max(65535).default(587),
      /** true: TLS from the first byte (port 465); false: STARTTLS when the server offers it. */
      secure: z.boolean().default(false),
      user: z.string().min(1).optional(),
      password: secret.optional(),
      /** Refuse to send unless the server upgrades to TLS. */
      requireTls: z.boolean().default(false),
    }),
  test: async (config, { signal, deps }) => {
    const transport = await smtpTransport(config, createHostGuard(deps.allowlist, deps.reserved), 10_000);
    try {
      await untilAborted(transport.verify(), signal);
      return { handshake: 'ok', host: config.host, port: config.port };
    } catch (err) {
      throw smtpError(err, signal);
    } finally {
      transport.close();
    }
  },
});

export type SmtpConnection = ConnectionConfig<typeof smtpConnection>;

/** A nodemailer transport to the connection's relay, by the address the SSRF guard checked. */
export async function smtpTransport(c: SmtpConnection, guard: ReturnType<typeof createHostGuard>, timeoutMs: number) {
  const address = await guard.resolve(c.host, c.port, 'EMAIL');
  return nodemailer.createTransport({
    host: address,
    port: c.port,
    secure: c.secure,
    requireTLS: c.requireTls,
    // The certificate is checked against the name, not the address connected to.
    tls: { servername: c.host },
    name: 'mini-zaps',
    ...(c.user ? { auth: { user: c.user, pass: c.password ?? '' } } : {}),
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
}
