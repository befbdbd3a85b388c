import { defineSignal } from '@temporalio/workflow';

export { EVENT_ID_PATTERN, EVENT_KEY_PATTERN, EVENT_NAME_PATTERN } from '../definitions/event-names.js';

/** The workflow type of the correlation workflow of one (tenant, name, key). */
export const EVENT_KEY_WORKFLOW = 'eventKey';

/**
 * The workflow id of the correlation workflow of (tenant, name, key). The tenant is prefixed with
 * its length and names hold no ':', so no two triples share an id (a tenant cannot reach another's).
 */
export const eventKeyId = (tenantId: string, name: string, key: string): string =>
  `event:${tenantId.length}:${tenantId}:${name}:${key}`;

/** An event accepted by `POST /v1/events`, as its correlation workflow holds it. */
export interface KeyedEvent {
  eventId: string;
  payload: unknown;
  /** When the API accepted it (ms since the epoch). */
  at: number;
}

/** A step (or a run's `cancelOn`) waiting on a key: the workflow to signal, and which of its waits. */
export interface Waiter {
  /** The workflow execution id that waits (a run, or a foreach batch of one). */
  target: string;
  waitId: string;
  /** Takes only events accepted at or after this time (ms); `cancelOn` ignores what came before the run. */
  since?: number;
  /** The waiter is forgotten after this time (ms): its step's timeout has passed. */
  until?: number;
}

/** An event offered to waiters, until each answers (or is found gone). */
export interface InFlight {
  event: KeyedEvent;
  pending: Waiter[];
  taken: boolean;
  offeredAt: number;
}

/** What a correlation workflow holds, and carries across continue-as-new. */
export interface EventKeyState {
  tenantId: string;
  name: string;
  key: string;
  /** EVENT_BUFFER_TTL in ms: how long an event waits for a step, and an id is remembered. */
  ttlMs: number;
  buffered: KeyedEvent[];
  waiters: Waiter[];
  inFlight: InFlight[];
  /** Event ids seen, with when they may be forgotten (ms): duplicates within the TTL are dropped. */
  seen: [string, number][];
  /** History events after which the workflow continues as new (tests lower it). */
  historyLimit?: number;
}

/** `POST /v1/events` to the correlation workflow (by signal-with-start). */
export const publishSignal = defineSignal<[KeyedEvent & { tenantId: string; ttlMs: number }]>('publish');
/** A wait begins: the run's activity registers it (by signal-with-start). */
export const subscribeSignal = defineSignal<[Waiter & { tenantId: string; ttlMs: number }]>('subscribe');
/** A wait ended without this key's event: forget the waiter. */
export const leaveSignal = defineSignal<[{ target: string; waitId: string }]>('leave');
/** A waiter's answer to an offer: taken, or declined (its wait had ended). */
export const answerSignal =
  defineSignal<[{ eventId: string; target: string; waitId: string; taken: boolean }]>('answer');

/** What the correlation workflow offers a waiting run. */
export interface Offer {
  correlationId: string;
  eventId: string;
  name: string;
  key: string;
  waitId: string;
  payload: unknown;
}
/** An event offered to a run's wait; the run answers with `answerSignal`. */
export const offerSignal = defineSignal<[Offer]>('keyedEvent');
