import { z } from 'zod';
import { defineConnector, type ConnectorDeps } from '../define-connector.js';
import { createSlackExecute } from './activity.js';
import { slackConnection } from './connection.js';

/**
 * Config of the `slack` step.
 * @example { "channel": "#sales", "text": "New pro user {{ trigger.email }}" }
 */
export const SlackConfigSchema = z
  .strictObject({
    /** An incoming webhook (usually `{{ $secret('slack_hook') }}`); otherwise the connection's. */
    webhookUrl: z.url({ protocol: /^https?$/ }).optional(),
    /** Needed with a bot token; a webhook posts to its own channel. */
    channel: z.string().min(1).max(200).optional(),
    text: z.string().max(40_000).optional(),
    /** Block Kit blocks. */
    blocks: z.array(z.record(z.string(), z.unknown())).max(50).optional(),
    threadTs: z.string().optional(),
  })
  .refine((c) => c.text !== undefined || c.blocks !== undefined, {
    message: 'a slack message needs text or blocks',
    path: ['text'],
  });
export type SlackConfig = z.output<typeof SlackConfigSchema>;

/** `slack`: posts one message. */
export const slackConnector = defineConnector({
  type: 'slack',
  description:
    "Posts a message to Slack: through an incoming webhook (`config.webhookUrl` or the connection's), or chat.postMessage with the `slack` connection's bot token. " +
    'Text and Block Kit blocks. Output `{ok, channel?, ts?}`. A refused token (SLACK_AUTH_FAILED) or revoked webhook is not retried; rate limits and outages are. The http SSRF guard applies.',
  configSchema: SlackConfigSchema,
  defaults: {
    timeout: '30s',
    retry: { maxAttempts: 5, initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '5m' },
  },
  example: { connection: 'slack_bot', config: { channel: '#sales', text: 'New pro user {{ trigger.email }}' } },
  connection: { kind: slackConnection, required: false },
  create: (deps: ConnectorDeps) => createSlackExecute(deps.allowlist, deps.reserved),
});
