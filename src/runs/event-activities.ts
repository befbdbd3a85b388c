import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { unavailable } from '../shared/errors.js';
import {
  EVENT_KEY_WORKFLOW,
  eventKeyId,
  leaveSignal,
  publishSignal,
  subscribeSignal,
  type EventKeyState,
  type KeyedEvent,
  type Waiter,
} from '../workflows/event-messages.js';

/** Where events and waits meet: the task queue of the correlation workflows, and how long events wait. */
export interface EventRouting {
  client: Client;
  taskQueue: string;
  /** EVENT_BUFFER_TTL in ms. */
  ttlMs: number;
}

const emptyState = (tenantId: string, name: string, key: string, ttlMs: number): EventKeyState => ({
  tenantId,
  name,
  key,
  ttlMs,
  buffered: [],
  waiters: [],
  inFlight: [],
  seen: [],
});

/**
 * Hands an event to the correlation workflow of its (tenant, name, key), starting it if none runs.
 * Once this returns, Temporal has recorded the signal: the event is durable.
 * @example await publishEvent(routing, { tenantId: 't1', name: 'payment.received', key: 'order-42', event: { eventId: 'evt-1', payload: {}, at: Date.now() } });
 */
export async function publishEvent(
  routing: EventRouting,
  req: { tenantId: string; name: string; key: string; event: KeyedEvent },
): Promise<void> {
  const { tenantId, name, key, event } = req;
  try {
    await routing.client.workflow.signalWithStart(EVENT_KEY_WORKFLOW, {
      workflowId: eventKeyId(tenantId, name, key),
      taskQueue: routing.taskQueue,
      args: [emptyState(tenantId, name, key, routing.ttlMs)],
      signal: publishSignal,
      signalArgs: [{ ...event, tenantId, ttlMs: routing.ttlMs }],
    });
  } catch (err) {
    throw unavailable('Temporal', err);
  }
}

/** The activities through which a run's waits register with the correlation workflows of their keys. */
export function createEventActivities(routing: EventRouting) {
  return {
    /** Registers one wait on each (name, key), starting each correlation workflow if none runs. */
    async subscribeEvents(req: { tenantId: string; keys: { name: string; key: string }[]; waiter: Waiter }) {
      const { tenantId, waiter } = req;
      for (const { name, key } of req.keys) {
        try {
          await routing.client.workflow.signalWithStart(EVENT_KEY_WORKFLOW, {
            workflowId: eventKeyId(tenantId, name, key),
            taskQueue: routing.taskQueue,
            args: [emptyState(tenantId, name, key, routing.ttlMs)],
            signal: subscribeSignal,
            signalArgs: [{ ...waiter, tenantId, ttlMs: routing.ttlMs }],
          });
        } catch (err) {
          throw unavailable('Temporal', err);
        }
      }
    },

    /** Forgets a wait that ended; a correlation workflow that has ended holds none. */
    async leaveEvents(req: { tenantId: string; keys: { name: string; key: string }[]; waiter: Waiter }) {
      for (const { name, key } of req.keys) {
        try {
          await routing.client.workflow
            .getHandle(eventKeyId(req.tenantId, name, key))
            .signal(leaveSignal, { target: req.waiter.target, waitId: req.waiter.waitId });
        } catch (err) {
          if (!(err instanceof WorkflowNotFoundError)) throw unavailable('Temporal', err);
        }
      }
    },
  };
}

export type EventActivities = ReturnType<typeof createEventActivities>;
