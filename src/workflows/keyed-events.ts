import {
  CancellationScope,
  condition,
  getExternalWorkflowHandle,
  proxyActivities,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { EventActivities } from '../runs/event-activities.js';
import { answerSignal, type Offer, type Waiter } from './event-messages.js';

const { subscribeEvents, leaveEvents } = proxyActivities<EventActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '30s' },
});

/** An event name and the key a wait or a `cancelOn` expects it under. */
export interface EventKey {
  name: string;
  key: string;
}

/** What a wait received: which event, its id and payload. */
export interface Arrival {
  name: string;
  eventId: string;
  payload: unknown;
}

/** Event ids a run remembers having taken, so none is taken twice. */
const SEEN_MAX = 1000;

/**
 * The run's side of events by key (see `eventKey`). A wait registers with the correlation
 * workflow of each of its keys and waits for an offer; each offer is answered: taken if its wait
 * is still on and the event is new to the run, else declined, so the correlation keeps it for
 * another. A run ends only once every answer is delivered, so no event stays in flight for it.
 */
export class KeyedWaits {
  /** The waits on now, by id: null until an event arrives. */
  private readonly active = new Map<string, Arrival | null>();
  private readonly seen: string[] = [];
  private readonly answering = new Set<Promise<void>>();
  /** The `cancelOn` registrations of the run: left when it ends. */
  private cancelOn: { keys: EventKey[]; waitId: string } | undefined;
  private onCancel: ((arrival: Arrival) => void) | undefined;
  /** Whether the run ever waited on a key (nothing here runs for runs that did not). */
  used = false;
  /** The event that cancelled the run, if one did. */
  cancelledBy: Arrival | undefined;

  constructor(private readonly tenantId: string) {}

  /** An offer from a correlation workflow: take it or decline it, and say which. */
  offer(o: Offer): void {
    this.used = true;
    const arrival = { name: o.name, eventId: o.eventId, payload: o.payload };
    const isNew = !this.seen.includes(o.eventId);
    const open = this.active.has(o.waitId) && this.active.get(o.waitId) === null;
    const cancels = this.cancelOn?.waitId === o.waitId;
    const taken = isNew && (open || cancels);
    if (taken) {
      this.seen.push(o.eventId);
      if (this.seen.length > SEEN_MAX) this.seen.shift();
      if (cancels) {
        this.cancelledBy ??= arrival;
        this.onCancel?.(arrival);
      } else this.active.set(o.waitId, arrival);
    }
    const answer = { eventId: o.eventId, target: workflowInfo().workflowId, waitId: o.waitId, taken: taken || !isNew };
    const sent: Promise<void> = getExternalWorkflowHandle(o.correlationId)
      .signal(answerSignal, answer)
      .then(
        () => undefined,
        () => undefined,
      )
      .finally(() => this.answering.delete(sent));
    this.answering.add(sent);
  }

  /**
   * Waits for the first event under any of `keys`; undefined when `timeoutMs` passes first.
   * @example await run.keyed.wait([{ name: 'payment.received', key: 'order-42' }], 86_400_000)
   */
  async wait(keys: EventKey[], timeoutMs: number | undefined): Promise<Arrival | undefined> {
    this.used = true;
    const waitId = uuid4();
    const waiter: Waiter = {
      target: workflowInfo().workflowId,
      waitId,
      ...(timeoutMs === undefined ? {} : { until: Date.now() + timeoutMs }),
    };
    this.active.set(waitId, null);
    let arrival: Arrival | null | undefined;
    try {
      await subscribeEvents({ tenantId: this.tenantId, keys, waiter });
      const arrived = () => this.active.get(waitId) !== null;
      if (timeoutMs === undefined) await condition(arrived);
      else await condition(arrived, timeoutMs);
    } finally {
      arrival = this.active.get(waitId);
      this.active.delete(waitId);
      // The keys that gave nothing forget the wait (an offer on its way is declined when it comes).
      const left = keys.filter((k) => k.name !== arrival?.name);
      if (left.length > 0)
        await CancellationScope.nonCancellable(() => leaveEvents({ tenantId: this.tenantId, keys: left, waiter }));
    }
    return arrival ?? undefined;
  }

  /**
   * Registers the run's `cancelOn` keys (once per run: a continued run keeps them); `cancel` is
   * called when one of their events arrives after the run started.
   */
  async watchCancel(keys: EventKey[], registered: boolean, cancel: (arrival: Arrival) => void): Promise<void> {
    this.used = true;
    this.onCancel = cancel;
    this.cancelOn = { keys, waitId: 'cancelOn' };
    if (registered) return;
    const since = Date.parse(workflowInfo().startTime.toISOString());
    const waiter: Waiter = { target: workflowInfo().workflowId, waitId: 'cancelOn', since };
    await subscribeEvents({ tenantId: this.tenantId, keys, waiter });
  }

  /** Before the run ends: its `cancelOn` keys forget it, and every answer it owes is delivered. */
  async close(): Promise<void> {
    await CancellationScope.nonCancellable(async () => {
      const cancelOn = this.cancelOn;
      this.cancelOn = undefined;
      if (cancelOn) {
        const waiter = { target: workflowInfo().workflowId, waitId: cancelOn.waitId };
        await leaveEvents({ tenantId: this.tenantId, keys: cancelOn.keys, waiter });
      }
      // An offer may come while the last answers go: wait until none is owed.
      while (this.answering.size > 0) await Promise.all([...this.answering]);
    });
  }
}
