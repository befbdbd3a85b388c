/** An event name: the `name` of `POST /v1/events` and of a `wait_for_event` step. */
export const EVENT_NAME_PATTERN = /^[A-Za-z0-9_.-]{1,100}$/;
export const EVENT_NAME_RULE = 'an event name is 1-100 characters of A-Z, a-z, 0-9, _ . -';
/** A business key, e.g. `order-42` or `customer:7/reply`. */
export const EVENT_KEY_PATTERN = /^[A-Za-z0-9_.:@/+=#~-]{1,200}$/;
export const EVENT_KEY_RULE = 'an event key is 1-200 characters of A-Z, a-z, 0-9 and _ . : @ / + = # ~ -';
/** A caller's event id, the key of `POST /v1/events`' idempotency. */
export const EVENT_ID_PATTERN = /^[A-Za-z0-9_.:-]{1,100}$/;
export const EVENT_ID_RULE = 'an event id is 1-100 characters of A-Z, a-z, 0-9, _ . : -';
