import { AppError } from '../../shared/errors.js';
import type { ExecuteContext } from '../connector-attempt.js';
import type { Reserved } from '../reserved.js';
import { createHttpExecute } from '../http/activity.js';
import { HttpConfigSchema } from '../http/schema.js';
import type { SlackConnection } from './connection.js';
import type { SlackConfig } from './definition.js';
import { slackFailure, webhookFailure } from './errors.js';

/** The step's output. */
export interface SlackOutput {
  ok: boolean;
  channel?: string;
  ts?: string;
}

/**
 * Posts through the http connector (SSRF guard, redirects without credentials, idempotency key):
 * to the step's or connection's webhook, else chat.postMessage with the connection's token.
 * @example await createSlackExecute('')(SlackConfigSchema.parse({ webhookUrl: 'https://hooks.slack.com/services/…', text: 'hi' }), ctx)
 */
export function createSlackExecute(allowlist: string, reserved?: Reserved) {
  const http = createHttpExecute(allowlist, reserved);
  return async (config: SlackConfig, ctx: ExecuteContext<SlackConnection>): Promise<SlackOutput> => {
    const plain = { ...ctx, connection: undefined };
    const message = { channel: config.channel, text: config.text, blocks: config.blocks, thread_ts: config.threadTs };
    const webhook = config.webhookUrl ?? ctx.connection?.webhookUrl;
    if (webhook) {
      try {
        await http(HttpConfigSchema.parse({ method: 'POST', url: webhook, body: message }), plain);
        return { ok: true };
      } catch (err) {
        throw webhookFailure(err);
      }
    }
    const token = ctx.connection?.token;
    if (!token || !ctx.connection)
      throw new AppError({
        code: 'SLACK_NOT_CONFIGURED',
        message: 'a slack step needs a webhookUrl, or a slack connection with a token or webhookUrl',
      });
    if (!config.channel) throw new AppError({ code: 'INVALID_CONFIG', message: 'chat.postMessage needs a channel' });
    const url = `${ctx.connection.apiUrl.replace(/\/$/, '')}/chat.postMessage`;
    const res = await http(
      HttpConfigSchema.parse({ method: 'POST', url, headers: { authorization: `Bearer ${token}` }, body: message }),
      plain,
    );
    slackFailure(res.body);
    const body = typeof res.body === 'object' && res.body !== null ? res.body : {};
    const channel = Reflect.get(body, 'channel');
    const ts = Reflect.get(body, 'ts');
    return { ok: true, ...(typeof channel === 'string' ? { channel } : {}), ...(typeof ts === 'string' ? { ts } : {}) };
  };
}
