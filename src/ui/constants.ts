/** How often the dashboard's stream sends a fresh snapshot (rates are computed from two of them). */
export const SNAPSHOT_INTERVAL_MS = 1_000
/** Browser tabs streaming at once; more are answered 503 (each costs a snapshot a second). */
export const MAX_STREAMS = 16
/** Recent events a new tab is sent first. */
export const RECENT_ON_CONNECT = 50
/** A tab that stops reading is cut once this much waits in its socket. */
export const MAX_STREAM_BACKLOG_BYTES = 1024 * 1024
/** The secret's bytes (base64url in the URL and the cookie). */
export const SECRET_BYTES = 32
