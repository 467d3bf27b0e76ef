/** Events kept for `agentmesh events --since`, the dashboard's recent events and late subscribers. */
export const RECENT_EVENTS = 500
/** Events one stream subscriber may fall behind by; past it the oldest are dropped (and an `events.dropped` says how many). */
export const SUBSCRIBER_QUEUE = 1000
/** Events waiting for the webhook; past it the oldest are dropped: a dead receiver never grows the daemon. */
export const WEBHOOK_QUEUE_DEFAULT = 1000
/** How long one webhook POST may take before it counts as failed. */
export const WEBHOOK_TIMEOUT_MS = 5_000
/** Backoff between retries of one event: this, doubling, up to WEBHOOK_RETRY_MAX_MS. */
export const WEBHOOK_RETRY_FIRST_MS = 500
export const WEBHOOK_RETRY_MAX_MS = 10_000
