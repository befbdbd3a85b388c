import { z } from 'zod';
import { defineConnectionKind, type ConnectionConfig } from '../connection-kind.js';
import { createHttpExecute } from '../http/activity.js';
import { HttpConfigSchema } from '../http/schema.js';
import { slackFailure } from './errors.js';

/**
 * A `slack` connection: a bot token (chat.postMessage) or an incoming webhook URL, both secrets.
 * @example { "token": "$secret('slack_bot')" }
 */
export const slackConnection = defineConnectionKind({
  type: 'slack',
  description: 'A Slack workspace: a bot token for chat.postMessage, or an incoming webhook URL.',
  example: { token: "$secret('slack_bot')" },
  schema: (secret) =>
    z
      .strictObject({
        token: secret.optional(),
        webhookUrl: secret.optional(),
        /** Where the Web API is; another value only for a proxy or a test double. */
        apiUrl: z.url({ protocol: /^https?$/ }).default('https://slack.com/api'),
      })
      .refine((c) => c.token !== undefined || c.webhookUrl !== undefined, {
        message: 'a slack connection needs a token or a webhookUrl',
        path: ['token'],
      }),
  // auth.test is Slack's metadata request: it proves the token and names the workspace.
  test: async (config, { signal, deps }) => {
    if (!config.token) return { webhook: 'configured' };
    const ctx = {
      input: {
        config: {},
        runId: 'test',
        workflowId: 'test',
        tenantId: 'test',
        stepId: 'test',
        idempotencyKey: 'test',
      },
      signal,
      attempt: 1,
      secrets: [config.token],
    };
    const res = await createHttpExecute(deps.allowlist, deps.reserved)(
      HttpConfigSchema.parse({
        method: 'POST',
        url: `${config.apiUrl.replace(/\/$/, '')}/auth.test`,
        headers: { authorization: `Bearer ${config.token}` },
      }),
      ctx,
    );
    const body = res.body;
    const team = typeof body === 'object' && body !== null ? Reflect.get(body, 'team') : undefined;
    slackFailure(body);
    return { team: typeof team === 'string' ? team : '' };
  },
});

export type SlackConnection = ConnectionConfig<typeof slackConnection>;
