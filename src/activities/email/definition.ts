import { z } from 'zod';
import { defineConnector, type ConnectorDeps } from '../define-connector.js';
import { createEmailExecute } from './activity.js';
import { smtpConnection } from './connection.js';

const Addresses = z.union([z.string().min(3).max(320), z.array(z.string().min(3).max(320)).min(1).max(100)]);

/**
 * Config of the `email` step; the relay is the step's `smtp` connection.
 * @example { "from": "hello@example.com", "to": "{{ trigger.email }}", "subject": "Welcome", "text": "Hi" }
 */
export const EmailConfigSchema = z
  .strictObject({
    from: z.string().min(3).max(320),
    to: Addresses,
    cc: Addresses.optional(),
    bcc: Addresses.optional(),
    replyTo: z.string().min(3).max(320).optional(),
    subject: z.string().max(998),
    text: z.string().optional(),
    html: z.string().optional(),
    /** Files from the run context: `content` is text, or base64 with `encoding: "base64"`. */
    attachments: z
      .array(
        z.strictObject({
          filename: z.string().min(1).max(255),
          content: z.string(),
          encoding: z.enum(['utf8', 'base64']).default('utf8'),
          contentType: z.string().optional(),
        }),
      )
      .max(20)
      .default([]),
  })
  .refine((c) => c.text !== undefined || c.html !== undefined, {
    message: 'an email needs text or html',
    path: ['text'],
  });
export type EmailConfig = z.output<typeof EmailConfigSchema>;

/** `email`: sends one message through the step's SMTP connection. */
export const emailConnector = defineConnector({
  type: 'email',
  description:
    'Sends an email through an `smtp` connection: to, cc, bcc, reply-to, subject, text, html and attachments. Output `{messageId, accepted, rejected}`. ' +
    'The Message-ID is derived from the run and step, the same on every attempt, so a relay can drop a repeat. Bad credentials (EMAIL_AUTH_FAILED) and refused messages are not retried; a relay that is down is.',
  configSchema: EmailConfigSchema,
  defaults: {
    timeout: '30s',
    retry: { maxAttempts: 5, initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '10m' },
  },
  example: {
    connection: 'mailer',
    config: { from: 'hello@example.com', to: '{{ trigger.email }}', subject: 'Welcome', text: 'Hi {{ trigger.name }}' },
  },
  connection: { kind: smtpConnection, required: true },
  create: (deps: ConnectorDeps) => createEmailExecute(deps.allowlist, deps.reserved),
});
