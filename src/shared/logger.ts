import { pino, type Logger } from 'pino';

export type { Logger };

/** The root logger; everything else uses `logger.child({ runId, workflowId, stepId, ... })`. */
export function createLogger(level: string, name: string): Logger {
  return pino({
    name,
    level,
    redact: {
      paths: ['req.headers.authorization', 'headers.authorization', 'headers.Authorization', '*.secret', '*.password'],
      censor: '[redacted]',
    },
  });
}
