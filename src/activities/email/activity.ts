import { createHash } from 'node:crypto';
import type { ExecuteContext } from '../connector-attempt.js';
import type { Reserved } from '../reserved.js';
import { untilAborted } from '../abort.js';
import { createHostGuard } from '../host-guard.js';
import { smtpTransport, type SmtpConnection } from './connection.js';
import type { EmailConfig } from './definition.js';
import { smtpError } from './errors.js';

/** The step's output. */
export interface EmailOutput {
  messageId: string;
  accepted: string[];
  rejected: string[];
}

const addresses = (list: unknown): string[] =>
  Array.isArray(list) ? list.map((a) => (typeof a === 'string' ? a : String(Reflect.get(a, 'address') ?? ''))) : [];

/**
 * Sends the message through the step's SMTP connection (host checked by the SSRF guard). Its
 * Message-ID is derived from the idempotency key, so every attempt sends the same one.
 * @example await createEmailExecute('')(EmailConfigSchema.parse({ from: 'a@x.io', to: 'b@y.io', subject: 'Hi', text: 'Hi' }), ctx)
 */
export function createEmailExecute(allowlist: string, reserved?: Reserved) {
  const guard = createHostGuard(allowlist, reserved);
  return async (config: EmailConfig, ctx: ExecuteContext<SmtpConnection>): Promise<EmailOutput> => {
    const smtp = ctx.connection;
    if (!smtp) throw smtpError(new Error('an email step needs an smtp connection'), ctx.signal);
    const messageId = `<${createHash('sha256').update(`${ctx.input.tenantId}:${ctx.input.idempotencyKey}`).digest('hex').slice(0, 32)}@mini-zaps>`;
    const transport = await smtpTransport(smtp, guard, 15_000);
    try {
      const sending = transport.sendMail({
        messageId,
        from: config.from,
        to: config.to,
        cc: config.cc,
        bcc: config.bcc,
        replyTo: config.replyTo,
        subject: config.subject,
        text: config.text,
        html: config.html,
        attachments: config.attachments.map((a) => ({
          filename: a.filename,
          content: a.content,
          encoding: a.encoding,
          contentType: a.contentType,
        })),
      });
      const info = await untilAborted(sending, ctx.signal);
      return { messageId, accepted: addresses(info.accepted), rejected: addresses(info.rejected) };
    } catch (err) {
      throw smtpError(err, ctx.signal);
    } finally {
      transport.close();
    }
  };
}
