import {
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import {
  answerSignal,
  leaveSignal,
  offerSignal,
  publishSignal,
  subscribeSignal,
  type EventKeyState,
  type KeyedEvent,
  type Waiter,
} from './event-messages.js';

/** Events one key keeps for steps not yet waiting, at most; past it the oldest go (logged). */
export const MAX_BUFFERED_EVENTS = 1000;
/** And at most this many bytes of their payloads, so the state always fits one continue-as-new. */
export const MAX_BUFFERED_BYTES = 1024 * 1024;
/** Event ids a key remembers for idempotency, at most (the newest): a busy key's state stays bounded. */
export const MAX_SEEN_IDS = 2000;
const DEFAULT_HISTORY_LIMIT = 2000;

/**
 * The correlation workflow of one (tenant, event name, key): events posted to the key and the
 * steps waiting on it meet here. `POST /v1/events` reaches it by signal-with-start, a wait by its
 * run's activity (signal-with-start too), so neither is lost to it ending. An event goes to every
 * waiter present (an offer signal to each run); with none, it is kept up to the TTL and goes to the
 * first wait that begins. A waiter answers each offer: taken, or declined (its wait had ended); an
 * event nobody took is kept again. Every change happens in signal handlers, recorded in history,
 * so a crash of any process loses nothing. Ends when it holds nothing; continues as new before its
 * history grows long. Why this delivers each event once: docs/architecture.md, "Events by key".
 */
export async function eventKey(initial: EventKeyState): Promise<void> {
  const s: EventKeyState = {
    ...initial,
    buffered: [...initial.buffered],
    waiters: [...initial.waiters],
    inFlight: [...initial.inFlight],
    seen: [...initial.seen],
  };
  const me = workflowInfo().workflowId;
  const sending = new Set<Promise<void>>();
  let dirty = true;

  setHandler(publishSignal, ({ tenantId, ttlMs, ...event }) => {
    if (tenantId !== s.tenantId) return;
    s.ttlMs = ttlMs;
    dirty = true;
    if (s.seen.some(([id]) => id === event.eventId)) return;
    s.seen.push([event.eventId, Date.now() + s.ttlMs]);
    if (s.seen.length > MAX_SEEN_IDS) s.seen.splice(0, s.seen.length - MAX_SEEN_IDS);
    insertByTime(s.buffered, event);
    trimBuffer(s);
  });
  setHandler(subscribeSignal, ({ tenantId, ttlMs, ...waiter }) => {
    if (tenantId !== s.tenantId) return;
    s.ttlMs = ttlMs;
    dirty = true;
    if (!s.waiters.some((w) => same(w, waiter))) s.waiters.push(waiter);
  });
  setHandler(leaveSignal, (waiter) => {
    s.waiters = s.waiters.filter((w) => !same(w, waiter));
  });
  setHandler(answerSignal, (answer) => {
    settle(answer.eventId, answer, answer.taken);
    dirty = true;
  });

  /** Records one waiter's answer; an event every waiter declined is kept again. */
  function settle(eventId: string, waiter: { target: string; waitId: string }, taken: boolean): void {
    const flight = s.inFlight.find((f) => f.event.eventId === eventId);
    if (!flight) return;
    const before = flight.pending.length;
    flight.pending = flight.pending.filter((w) => !same(w, waiter));
    if (flight.pending.length === before) return;
    flight.taken ||= taken;
    if (flight.pending.length > 0) return;
    s.inFlight = s.inFlight.filter((f) => f !== flight);
    if (!flight.taken) insertByTime(s.buffered, flight.event);
  }

  function offer(event: KeyedEvent, waiters: Waiter[]): void {
    s.inFlight.push({ event, pending: waiters, taken: false, offeredAt: Date.now() });
    for (const waiter of waiters) {
      const sent = getExternalWorkflowHandle(waiter.target)
        .signal(offerSignal, {
          correlationId: me,
          eventId: event.eventId,
          name: s.name,
          key: s.key,
          waitId: waiter.waitId,
          payload: event.payload,
        })
        .then(
          () => undefined,
          // The run has ended: it never saw the offer, so it declines.
          () => {
            settle(event.eventId, waiter, false);
            dirty = true;
          },
        )
        .finally(() => sending.delete(sent));
      sending.add(sent);
    }
  }

  /** Each buffered event, oldest first, goes to every waiter that may take it. */
  function match(): void {
    for (const event of [...s.buffered]) {
      const takers = s.waiters.filter((w) => (w.since ?? 0) <= event.at);
      if (takers.length === 0) continue;
      s.buffered = s.buffered.filter((e) => e !== event);
      s.waiters = s.waiters.filter((w) => !takers.includes(w));
      offer(event, takers);
    }
  }

  function expire(now: number): void {
    s.buffered = s.buffered.filter((e) => e.at + s.ttlMs > now);
    s.seen = s.seen.filter(([, until]) => until > now);
    s.waiters = s.waiters.filter((w) => w.until === undefined || w.until > now);
    // A waiter that never answers (its run was terminated mid-offer) holds the event up to the TTL.
    s.inFlight = s.inFlight.filter((f) => f.offeredAt + s.ttlMs > now);
  }

  const holdsNothing = () =>
    s.buffered.length === 0 && s.waiters.length === 0 && s.inFlight.length === 0 && s.seen.length === 0;
  const nextExpiry = (): number =>
    Math.min(
      ...s.buffered.map((e) => e.at + s.ttlMs),
      ...s.seen.map(([, until]) => until),
      ...s.waiters.flatMap((w) => (w.until === undefined ? [] : [w.until])),
      ...s.inFlight.map((f) => f.offeredAt + s.ttlMs),
    );

  for (;;) {
    dirty = false;
    expire(Date.now());
    match();
    if (holdsNothing() && sending.size === 0) return;
    const info = workflowInfo();
    if (info.continueAsNewSuggested || info.historyLength >= (s.historyLimit ?? DEFAULT_HISTORY_LIMIT)) {
      // An offer whose delivery is unknown would be forgotten: wait until each is known.
      await condition(() => sending.size === 0);
      expire(Date.now());
      await continueAsNew<typeof eventKey>(s);
    }
    const wake = nextExpiry();
    if (Number.isFinite(wake)) await condition(() => dirty, Math.max(1, wake - Date.now()));
    else await condition(() => dirty);
  }
}

const same = (a: { target: string; waitId: string }, b: { target: string; waitId: string }) =>
  a.target === b.target && a.waitId === b.waitId;

function insertByTime(events: KeyedEvent[], event: KeyedEvent): void {
  const i = events.findIndex((e) => e.at > event.at);
  if (i < 0) events.push(event);
  else events.splice(i, 0, event);
}

function trimBuffer(s: EventKeyState): void {
  const size = (e: KeyedEvent) => JSON.stringify(e.payload ?? null).length;
  let bytes = s.buffered.reduce((sum, e) => sum + size(e), 0);
  while (s.buffered.length > MAX_BUFFERED_EVENTS || (bytes > MAX_BUFFERED_BYTES && s.buffered.length > 1)) {
    const dropped = s.buffered.shift();
    if (!dropped) break;
    bytes -= size(dropped);
    log.warn('event buffer full: the oldest event of the key is dropped', { eventId: dropped.eventId });
  }
}
